import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, smallSiteYaml, startPanelApp, type PanelApp } from './helpers.ts';

let p: PanelApp;
let ca: Buffer;

function https(method: string, url: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, ca, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

beforeAll(async () => {
  p = await startPanelApp({
    site: smallSiteYaml({ panel: { host: '127.0.0.1', port: 8443, tls: { certFile: 'cert.pem', keyFile: 'key.pem' } } }),
    prepare: (dir) =>
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      ),
  });
  ca = readFileSync(join(p.dir, 'cert.pem'));
}, 30_000);
afterAll(() => p.stop());

describe('the panel over HTTPS', () => {
  it('serves the panel with the configured certificate; the setup link is https and the session cookie is Secure', async () => {
    expect(p.app.setupLink!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/setup\?token=/);
    const token = new URL(p.app.setupLink!.url).searchParams.get('token');
    const r = await https('POST', `${p.base}/api/setup`, { token, username: 'wangjl', displayName: '王建立', password: PASSWORD });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toEqual([expect.stringMatching(/^sw_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure$/)]);
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    expect((await https('GET', `${p.base}/login`)).status).toBe(200);
  });
});
