import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../../gateway/core/clock.ts';
import { signHeaders } from './sign.ts';
import { parseAck, type Batch, type SendOutcome, type Transport } from './wire.ts';

export type UpstreamAuth = { type: 'bearer'; token: string } | { type: 'hmac'; keyId: string; secret: string };

export interface HttpTransportOptions {
  url: string;
  auth: UpstreamAuth;
  /** PEM: CA to trust for the county server, client certificate and key for mutual TLS. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  timeoutMs: number;
  clock: Clock;
  userAgent: string;
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Batches as one HTTP(S) POST each, over a kept-alive connection. The answer
 * is classified, never trusted blindly: only a body that parses as an ack
 * moves entries; a 2xx without one counts as "nothing decided".
 */
export class HttpTransport implements Transport {
  readonly name = 'http';
  private readonly agent: http.Agent;
  private readonly target: URL;

  constructor(private readonly o: HttpTransportOptions) {
    this.target = new URL(o.url);
    const tls = this.target.protocol === 'https:';
    const common = { keepAlive: true, maxSockets: 1, keepAliveMsecs: 10_000 };
    this.agent = tls
      ? new https.Agent({ ...common, ...(o.ca ? { ca: o.ca } : {}), ...(o.cert ? { cert: o.cert } : {}), ...(o.key ? { key: o.key } : {}) })
      : new http.Agent(common);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.agent.destroy();
  }

  send(batch: Batch): Promise<SendOutcome> {
    const body = Buffer.from(JSON.stringify(batch));
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': body.length,
      'user-agent': this.o.userAgent,
      'x-sw-box-id': batch.boxId,
      'x-sw-batch-id': batch.batchId,
    };
    if (this.o.auth.type === 'bearer') headers.authorization = `Bearer ${this.o.auth.token}`;
    else Object.assign(headers, signHeaders(this.o.auth.keyId, this.o.auth.secret, body, this.o.clock.now()));
    const started = performance.now();
    const mod = this.target.protocol === 'https:' ? https : http;
    return new Promise<SendOutcome>((resolve) => {
      let settled = false;
      const done = (o: SendOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(o);
      };
      const req = mod.request(this.target, { method: 'POST', agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          done(classify(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'), performance.now() - started, this.o.clock)),
        );
        res.on('error', (err) => done({ kind: 'unavailable', reason: `the answer broke off: ${err.message}` }));
      });
      // One deadline for the whole exchange (connect, send, answer), not just socket idleness.
      const deadline = setTimeout(() => {
        req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`));
      }, this.o.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) =>
        done({
          kind: 'unavailable',
          reason: `${this.target.host}: ${err.code ? `${err.code} ` : ''}${err.message}`,
          pushback: /no answer within/.test(err.message),
        }),
      );
      req.end(body);
    });
  }
}

function classify(status: number, headers: http.IncomingHttpHeaders, text: string, rttMs: number, clock: Clock): SendOutcome {
  const excerpt = text.slice(0, 300).replace(/\s+/g, ' ');
  if (status >= 200 && status < 300) {
    const p = parseAck(text);
    return p.ok ? { kind: 'ack', ack: p.ack, rttMs } : { kind: 'unavailable', reason: `HTTP ${status} but ${p.why}`, status };
  }
  if (status === 429 || status === 503) {
    const retryAfterMs = retryAfter(headers['retry-after'], clock.now());
    return { kind: 'unavailable', reason: `HTTP ${status} ${excerpt}`, status, pushback: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (status === 401 || status === 403)
    return { kind: 'unavailable', reason: `HTTP ${status}: the county refused the box's credentials (${excerpt})`, status, auth: true };
  if (status === 400 || status === 413 || status === 422) {
    // A 4xx that still names ids is an ack with rejections.
    const p = parseAck(text);
    if (p.ok && p.ack.accepted.length + p.ack.rejected.length > 0) return { kind: 'ack', ack: p.ack, rttMs };
    return { kind: 'refused', status, reason: `HTTP ${status} ${excerpt}` };
  }
  // 404, 405, other 4xx: the URL or method is wrong — a configuration matter, never the entries' fault.
  if (status >= 400 && status < 500) return { kind: 'unavailable', reason: `HTTP ${status} (check upstream.county.url): ${excerpt}`, status, auth: true };
  return { kind: 'unavailable', reason: `HTTP ${status} ${excerpt}`, status, pushback: true };
}

/** Retry-After: delta seconds or an HTTP date. */
export function retryAfter(v: string | string[] | undefined, now: number): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s.trim() === '') return undefined;
  if (/^\d+$/.test(s.trim())) return Math.min(MAX_RETRY_AFTER_MS, Number(s.trim()) * 1000);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}
