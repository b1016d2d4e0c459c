import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker } from '../../../gateway/broker/broker.ts';
import { Credentials } from '../../../gateway/broker/credentials.ts';
import { systemClock } from '../../../gateway/core/clock.ts';
import { freePort } from '../../helpers/cli.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { silentLog, tempDir } from '../../helpers/store.ts';

const t = tempDir('shouwang-tls-');
afterAll(() => t.cleanup());

describe('broker over TLS', () => {
  it('serves MQTT on the TLS port with the configured certificate; devices authenticate the same way', async () => {
    const key = join(t.dir, 'key.pem');
    const cert = join(t.dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tlsPort = await freePort();
    const broker = new Broker({
      config: {
        host: '127.0.0.1',
        port: 0,
        tls: { port: tlsPort, certFile: cert, keyFile: key },
        maxConnections: 10,
        connectsPerMinutePerAddress: 100,
        maxPayloadBytes: 4096,
        keepaliveMaxSeconds: 300,
      },
      credentials: await Credentials.create([{ principal: { kind: 'device', id: 'panel-1' }, password: 'panel-1-secret-pw', enabled: true }]),
      clock: systemClock,
      log: silentLog,
      reject: () => {},
      port: 0,
    });
    const got: string[] = [];
    broker.onInbound(async (m) => void got.push(m.topic));
    await broker.start();
    try {
      expect(broker.addresses.map((a) => a.tls)).toEqual([false, true]);
      const c = await connect(`mqtts://127.0.0.1:${tlsPort}`, {
        clientId: 'panel-1',
        username: 'panel-1',
        password: 'panel-1-secret-pw',
        ca: readFileSync(cert),
      });
      await publish(c, 'sw/v1/panel-1/event', '{"id":"t1","type":"heartbeat"}');
      c.end(true);
      expect(got).toEqual(['sw/v1/panel-1/event']);
      await expect(
        connect(`mqtts://127.0.0.1:${tlsPort}`, { clientId: 'panel-1', username: 'panel-1', password: 'wrong-password', ca: readFileSync(cert) }),
      ).rejects.toMatchObject({ code: 4 });
    } finally {
      await broker.stop();
    }
  });
});
