import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHeaders } from '../../../cloud-bridge/push/sign.ts';
import { CountyReceiver } from '../../../simulators/county-platform/index.ts';
import { smallSite, startApp } from '../../helpers/app.ts';
import { openStore, tempDir } from '../../helpers/store.ts';
import { fill, httpTransport, mixedEntries, outboxEmpty, pusher, waitFor } from './helpers.ts';

const t = tempDir('shouwang-auth-tls-');
afterAll(() => t.cleanup());

/** A county CA, a server certificate for 127.0.0.1 and a box's client certificate, made with openssl now. */
function makeCerts(dir: string) {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Test County CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=county.test', '-keyout', f('server.key'), '-out', f('server.csr'));
  ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.pem'),
  );
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=sw-320602-010', '-keyout', f('client.key'), '-out', f('client.csr'));
  ssl(
    'x509',
    '-req',
    '-in',
    f('client.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('client.ext'),
    '-out',
    f('client.pem'),
  );
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

const batch = (seq: number) => ({
  boxId: 'sw-1',
  batchId: `b${seq}`,
  sentAt: new Date().toISOString(),
  envelopes: [
    { boxId: 'sw-1', seq, id: `id-${seq}`, type: 'event', lane: 'record', occurredAt: new Date().toISOString(), sentAt: new Date().toISOString(), body: {} },
  ],
});

describe('HMAC-SHA256 request signing', () => {
  let county: CountyReceiver;
  beforeAll(async () => {
    county = await new CountyReceiver({ hmacKeys: { 'box-key-1': 'hmac-secret-of-the-box' } }).start();
  });
  afterAll(() => county.stop());

  it('delivers signed batches', async () => {
    const store = await openStore(join(t.dir, 'hmac-store'));
    const p = pusher(store, httpTransport(county.url, { type: 'hmac', keyId: 'box-key-1', secret: 'hmac-secret-of-the-box' }));
    try {
      await fill(store, mixedEntries(60));
      await p.start();
      await waitFor(() => outboxEmpty(store), 'signed delivery');
      expect(county.accounting.report().boxes[0]).toMatchObject({ received: 60, gaps: 0 });
    } finally {
      await p.stop();
      await store.close();
    }
  });

  it('refuses a replayed request, a wrong secret and a stale timestamp', async () => {
    const body = Buffer.from(JSON.stringify(batch(1)));
    const headers = { 'content-type': 'application/json', ...signHeaders('box-key-1', 'hmac-secret-of-the-box', body, Date.now()) };
    const send = (h: Record<string, string>, b = body) => fetch(county.url, { method: 'POST', headers: h, body: b });
    expect((await send(headers)).status).toBe(200);
    const replay = await send(headers);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ error: 'replayed request: this nonce was already used' });
    const tampered = await send(headers, Buffer.from(JSON.stringify(batch(2))));
    expect(((await tampered.json()) as { error: string }).error).toBe('signature does not match');
    const wrong = await send({ 'content-type': 'application/json', ...signHeaders('box-key-1', 'not-the-secret', body, Date.now()) });
    expect(((await wrong.json()) as { error: string }).error).toBe('signature does not match');
    const stale = await send({ 'content-type': 'application/json', ...signHeaders('box-key-1', 'hmac-secret-of-the-box', body, Date.now() - 3_600_000) });
    expect(((await stale.json()) as { error: string }).error).toMatch(/timestamp is -3600 s off the county's clock/);
  });
});

describe('TLS with the county CA and a client certificate', () => {
  let certs: ReturnType<typeof makeCerts>;
  let county: CountyReceiver;
  beforeAll(async () => {
    certs = makeCerts(t.dir);
    county = await new CountyReceiver({
      tokens: ['county-tls-token'],
      tls: { cert: readFileSync(certs.cert), key: readFileSync(certs.key), ca: readFileSync(certs.ca), requireClientCert: true },
    }).start();
  });
  afterAll(() => county?.stop());

  it('delivers when the box trusts the county CA and shows its client certificate', async () => {
    const store = await openStore(join(t.dir, 'tls-store-1'));
    const transport = httpTransport(
      county.url,
      { type: 'bearer', token: 'county-tls-token' },
      {
        ca: readFileSync(certs.ca),
        cert: readFileSync(certs.clientCert),
        key: readFileSync(certs.clientKey),
      },
    );
    const p = pusher(store, transport);
    try {
      expect(county.url).toMatch(/^https:/);
      await fill(store, mixedEntries(40));
      await p.start();
      await waitFor(() => outboxEmpty(store), 'delivery over mutual TLS');
      expect(county.accounting.report().boxes[0]).toMatchObject({ received: 40, gaps: 0 });
    } finally {
      await p.stop();
      await store.close();
    }
  });

  it('will not talk to a county whose certificate it cannot verify, nor get in without a client certificate', async () => {
    const store = await openStore(join(t.dir, 'tls-store-2'));
    try {
      await fill(store, mixedEntries(3));
      const noCa = pusher(
        store,
        httpTransport(county.url, { type: 'bearer', token: 'county-tls-token' }, { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }),
      );
      expect((await noCa.step()).why).toBe('unavailable');
      expect(noCa.stats().lastError).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|self-signed certificate|unable to verify/i);
      await noCa.stop();
      const noClientCert = pusher(store, httpTransport(county.url, { type: 'bearer', token: 'county-tls-token' }, { ca: readFileSync(certs.ca) }));
      expect((await noClientCert.step()).why).toBe('unavailable');
      expect(noClientCert.stats().lastError).toMatch(/certificate|ECONNRESET|socket hang up/i);
      await noClientCert.stop();
      expect(await store.outbox.deadLetters()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('is set up from the site file: https URL, caFile, client certificate and HMAC auth', async () => {
    const hmacCounty = await new CountyReceiver({
      hmacKeys: { 'box-key-2': 'hmac-secret-two' },
      tls: { cert: readFileSync(certs.cert), key: readFileSync(certs.key), ca: readFileSync(certs.ca), requireClientCert: true },
    }).start();
    const app = await startApp(
      join(t.dir, 'tls-app'),
      smallSite({
        upstream: {
          county: {
            url: hmacCounty.url,
            auth: { type: 'hmac', keyId: 'box-key-2', secret: 'hmac-secret-two' },
            caFile: certs.ca,
            clientCertFile: certs.clientCert,
            clientKeyFile: certs.clientKey,
          },
        },
      }),
    );
    try {
      await waitFor(() => (hmacCounty.accounting.report().boxes[0]?.byType['box.heartbeat'] ?? 0) > 0, 'the heartbeat over HTTPS with HMAC');
    } finally {
      await app.stop();
      await hmacCounty.stop();
    }
  });
});
