import http from 'node:http';
import type { Clock } from '../../gateway/core/clock.ts';
import { OnvifError } from './errors.ts';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequestOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Socket timeout for the whole exchange, on the driver's clock. */
  timeoutMs: number;
  clock: Clock;
  agent?: http.Agent | false;
  signal?: AbortSignal;
  maxBytes: number;
  /** For error messages. */
  op: string;
}

/**
 * One HTTP exchange with a camera, bounded in time (on the injected clock, so
 * tests drive timeouts with a FakeClock) and in size. A request sent on a
 * reused keep-alive socket that the camera had just closed is retried once on
 * a fresh socket (Node's documented remedy): that race is not a camera fault.
 */
export async function httpRequest(url: string, o: HttpRequestOptions): Promise<HttpResponse> {
  try {
    return await once(url, o);
  } catch (err) {
    if (err instanceof ReusedSocketReset) return once(url, { ...o, agent: false });
    throw err;
  }
}

class ReusedSocketReset extends Error {}

function once(url: string, o: HttpRequestOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new OnvifError('http', `${o.op}: ${JSON.stringify(url)} is not a URL`, { url, op: o.op }));
      return;
    }
    if (u.protocol !== 'http:') {
      reject(new OnvifError('http', `${o.op}: only http:// is supported, got ${u.protocol}`, { url, op: o.op }));
      return;
    }
    if (o.signal?.aborted) {
      reject(new OnvifError('aborted', `${o.op} was cancelled`, { url, op: o.op }));
      return;
    }
    const body = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const req = http.request(
      {
        hostname: u.hostname,
        port: u.port || 80,
        path: `${u.pathname}${u.search}`,
        method: o.method,
        headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...o.headers },
        ...(o.agent !== undefined ? { agent: o.agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > o.maxBytes) {
            req.destroy();
            finish(() => reject(new OnvifError('http', `${o.op}: answer larger than ${o.maxBytes} bytes`, { url, op: o.op, status: res.statusCode ?? 0 })));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })));
        res.on('error', (err) => finish(() => reject(networkError(url, o.op, err))));
      },
    );
    const timer = o.clock.setTimer(o.timeoutMs, () => {
      req.destroy();
      finish(() => reject(new OnvifError('timeout', `${o.op}: no answer from ${u.host} within ${o.timeoutMs} ms`, { url, op: o.op })));
    });
    const onAbort = () => {
      req.destroy();
      finish(() => reject(new OnvifError('aborted', `${o.op} was cancelled`, { url, op: o.op })));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return finish(() => reject(new ReusedSocketReset()));
      finish(() => reject(networkError(url, o.op, err)));
    });
    req.end(body);
  });
}

function networkError(url: string, op: string, err: NodeJS.ErrnoException): OnvifError {
  const errno = err.code ?? 'ERR';
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  return new OnvifError('network', `${op}: cannot reach ${host} (${errno}${err.message && !err.message.includes(errno) ? `: ${err.message}` : ''})`, {
    url,
    op,
    errno,
  });
}
