import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { CountyUpstreamConfig } from '../../config/schema.ts';

export interface UpstreamTestResult {
  configured: boolean;
  target: string | null;
  reachable: boolean;
  status: number | null;
  ms: number | null;
  error: string | null;
  at: number;
}

/**
 * Can the box reach the county endpoint? One HEAD request with the site's
 * TLS settings and a timeout; any HTTP answer means reachable (no token is
 * sent: this tests the network path and TLS, not the account).
 */
export function testUpstream(county: CountyUpstreamConfig | undefined, now: number, timeoutMs = 5000): Promise<UpstreamTestResult> {
  if (!county)
    return Promise.resolve({
      configured: false,
      target: null,
      reachable: false,
      status: null,
      ms: null,
      error: 'no upstream.county in the site file',
      at: now,
    });
  const url = new URL(county.url);
  const target = `${url.protocol}//${url.host}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (r: Partial<UpstreamTestResult>) =>
      resolve({ configured: true, target, reachable: false, status: null, ms: Math.round(performance.now() - started), error: null, at: now, ...r });
    const opts: https.RequestOptions = { method: 'HEAD', timeout: timeoutMs };
    if (url.protocol === 'https:') {
      if (county.caFile) opts.ca = readFileSync(county.caFile);
      if (county.clientCertFile) opts.cert = readFileSync(county.clientCertFile);
      if (county.clientKeyFile) opts.key = readFileSync(county.clientKeyFile);
    }
    const req = (url.protocol === 'https:' ? https : http).request(url, opts, (res) => {
      res.resume();
      done({ reachable: true, status: res.statusCode ?? null });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ? `${err.code}: ${err.message}` : err.message }));
    req.end();
  });
}
