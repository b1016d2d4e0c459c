import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../../helpers/app.ts';
import { tempDir } from '../../helpers/store.ts';

/** Debian's mosquitto-clients as a real third-party MQTT client (installed by .ci/run). */
const run = promisify(execFile);
let t: ReturnType<typeof tempDir>;
let app: Awaited<ReturnType<typeof startApp>>;

beforeEach(async () => {
  t = tempDir();
  app = await startApp(t.dir);
});
afterEach(async () => {
  await app.stop();
  t.cleanup();
});

const port = () => String(app.broker.addresses[0]!.port);
const pub = (user: string, password: string, topic: string, message: string) =>
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port(), '-V', 'mqttv311', '-i', user, '-u', user, '-P', password, '-q', '1', '-t', topic, '-m', message], {
    timeout: 4000,
  }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );

describe('interop with mosquitto_pub / mosquitto_sub', () => {
  it('stores what a device publishes with the right credentials', async () => {
    const r = await pub('sos-1', 'sos-1-demo', 'sw/v1/sos-1/event', JSON.stringify({ id: 'mq-1', type: 'sos', state: 'pressed' }));
    expect(r.code).toBe(0);
    const [e] = await app.store.events.read({ kinds: ['sos'] });
    expect(e).toMatchObject({ deviceId: 'sos-1', active: true, attrs: { household: '1栋1单元501' } });
  });

  it('refuses wrong credentials with CONNACK "not authorised" / "bad user name or password"', async () => {
    const r = await pub('sos-1', 'not-the-password', 'sw/v1/sos-1/event', '{"id":"mq-2","type":"sos"}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not authori[sz]ed|bad user ?name or password|Connection Refused/i);
    expect(await app.store.events.read({ kinds: ['sos'] })).toEqual([]);
  });

  it('holds the ACLs: no publishing as another device, no reading other devices’ commands', async () => {
    await pub('door-1', 'door-1-demo', 'sw/v1/panel-1/event', JSON.stringify({ id: 'mq-3', type: 'zone', zone: 4, zoneType: 'perimeter', state: 'alarm' }));
    expect(await app.store.events.read({ kinds: ['zone_alarm'] })).toEqual([]);
    // the refusal is kept as a reject; that write is not what the device waits for, so give it its commit
    const until = Date.now() + 3000;
    while ((await app.store.rejects.recent(10, 'door-1')).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect((await app.store.rejects.recent(10, 'door-1'))[0]?.source).toBe('sw/v1/panel-1/event');

    // door-1 subscribes to door-2's commands: refused; a command to door-2 never reaches it.
    const sub = spawn('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      port(),
      '-V',
      'mqttv311',
      '-i',
      'door-1',
      '-u',
      'door-1',
      '-P',
      'door-1-demo',
      '-t',
      'sw/v1/door-2/cmd',
      '-q',
      '1',
      '-W',
      '2',
    ]);
    let out = '';
    let err = '';
    sub.stdout.on('data', (d) => (out += d));
    sub.stderr.on('data', (d) => (err += d));
    const exited = new Promise((r) => sub.on('exit', r));
    await new Promise((r) => setTimeout(r, 500));
    await app.broker.publish('sw/v1/door-2/cmd', Buffer.from('{"id":"c","action":"unlock"}'), { qos: 1, retain: false });
    await exited;
    expect(out).toBe('');
    expect(err).toMatch(/denied|refused|failed/i);
  }, 15_000);
});
