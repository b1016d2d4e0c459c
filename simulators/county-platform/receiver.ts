import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Accounting, type BatchResult } from './accounting.ts';
import { Authenticator, type AuthOptions } from './auth.ts';

/**
 * How the simulated platform behaves:
 *   healthy    acks every batch at once
 *   down       not listening at all (connection refused)
 *   slow       answers after slowMs
 *   flaky      a share (failShare) of requests get HTTP 500, nothing processed
 *   partial    processes and acks only a share (partialShare) of each batch; the rest is left out of the ack
 *   lost-acks  a share (lostShare) of batches is processed but the answer never arrives (the socket is cut)
 *   throttle   a share (throttleShare) of requests gets 429 with Retry-After
 *   strict     a batch holding any invalid envelope is refused whole with HTTP 400
 */
export const MODES = ['healthy', 'down', 'slow', 'flaky', 'partial', 'lost-acks', 'throttle', 'strict'] as const;
export type Mode = (typeof MODES)[number];

export interface ModeOptions {
  slowMs?: number;
  failShare?: number;
  partialShare?: number;
  lostShare?: number;
  throttleShare?: number;
  retryAfterSeconds?: number;
}

export interface ReceiverOptions extends ModeOptions, AuthOptions {
  host?: string;
  port?: number;
  /** Path boxes POST batches to (default /api/v1/ingest). */
  path?: string;
  mode?: Mode;
  tls?: { cert: Buffer | string; key: Buffer | string; ca?: Buffer | string; requireClientCert?: boolean };
  maxEnvelopeBytes?: number;
  maxBatchBytes?: number;
  seed?: number;
  accounting?: Accounting;
  /** Called after a batch was processed, before the answer is written (tests kill the box here). */
  onBatch?: (info: { boxId: string; batchId: string | null; result: BatchResult; mode: Mode }) => void | Promise<void>;
  log?: (line: string) => void;
}

/** A small seeded PRNG, so a run's choices (which request fails) can be repeated. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class CountyReceiver {
  readonly accounting: Accounting;
  mode: Mode;
  private server: http.Server | https.Server;
  private sockets = new Set<Socket>();
  private port: number;
  private listening = false;
  private readonly auth: Authenticator;
  private readonly random: () => number;
  private opts: ModeOptions;
  readonly requests: Record<string, number> = {};

  constructor(private readonly o: ReceiverOptions = {}) {
    this.accounting = o.accounting ?? new Accounting();
    this.mode = o.mode ?? 'healthy';
    this.port = o.port ?? 0;
    this.auth = new Authenticator(o);
    this.random = prng(o.seed ?? 6);
    this.opts = { ...o };
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = o.tls
      ? https.createServer(
          {
            cert: o.tls.cert,
            key: o.tls.key,
            ...(o.tls.ca ? { ca: o.tls.ca } : {}),
            requestCert: !!o.tls.requireClientCert,
            rejectUnauthorized: !!o.tls.requireClientCert,
          },
          handler,
        )
      : http.createServer(handler);
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get url(): string {
    return `${this.o.tls ? 'https' : 'http'}://${this.o.host ?? '127.0.0.1'}:${this.port}${this.o.path ?? '/api/v1/ingest'}`;
  }

  get base(): string {
    return `${this.o.tls ? 'https' : 'http'}://${this.o.host ?? '127.0.0.1'}:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.mode !== 'down') await this.listen();
    else if (this.port === 0) {
      // Down from the start but with a known port: take one, then let it go.
      await this.listen();
      await this.close();
    }
    return this;
  }

  async setMode(mode: Mode, opts: ModeOptions = {}): Promise<void> {
    this.opts = { ...this.opts, ...opts };
    if (mode === this.mode) return;
    this.log(`mode ${this.mode} -> ${mode}`);
    this.mode = mode;
    if (mode === 'down') await this.close();
    else if (!this.listening) await this.listen();
  }

  async stop(): Promise<void> {
    await this.close();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.o.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        this.listening = true;
        resolve();
      });
    });
  }

  private close(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private count(status: number | string): void {
    this.requests[status] = (this.requests[status] ?? 0) + 1;
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.count(status);
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/accounting') {
      const after = Number(url.searchParams.get('latencyAfterSeq') ?? 0);
      return this.send(res, 200, {
        mode: this.mode,
        requests: this.requests,
        ...this.accounting.report({ latencyAfterSeq: Number.isFinite(after) ? after : 0 }),
      });
    }
    if (req.method === 'GET' && url.pathname === '/healthz') return this.send(res, 200, { ok: true, mode: this.mode });
    if (req.method === 'POST' && url.pathname === '/mode') {
      const body = await readBody(req, 4096).catch(() => null);
      const m = body ? (JSON.parse(body.toString('utf8') || '{}') as { mode?: Mode } & ModeOptions) : {};
      if (!m.mode || !MODES.includes(m.mode)) return this.send(res, 400, { error: `mode must be one of ${MODES.join(', ')}` });
      this.send(res, 200, { mode: m.mode });
      await this.setMode(m.mode, m);
      return;
    }
    if (req.method !== 'POST' || url.pathname !== (this.o.path ?? '/api/v1/ingest'))
      return this.send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    return this.ingest(req, res);
  }

  private async ingest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, this.o.maxBatchBytes ?? 32 * 1024 * 1024);
    } catch (err) {
      return this.send(res, 413, { error: (err as Error).message });
    }
    const who = this.auth.check(req.headers, body);
    if (!who.ok) return this.send(res, 401, { error: who.reason });
    const mode = this.mode;
    const o = this.opts;
    if (mode === 'slow') await new Promise((r) => setTimeout(r, o.slowMs ?? 2000));
    if (mode === 'flaky' && this.random() < (o.failShare ?? 0.3)) return this.send(res, 500, { error: 'simulated failure (flaky mode)' });
    if (mode === 'throttle' && this.random() < (o.throttleShare ?? 1))
      return this.send(res, 429, { error: 'too many requests (throttle mode)' }, { 'retry-after': String(o.retryAfterSeconds ?? 1) });
    let batch: { boxId?: unknown; batchId?: unknown; envelopes?: unknown };
    try {
      batch = JSON.parse(body.toString('utf8'));
    } catch {
      return this.send(res, 400, { error: 'the body is not JSON' });
    }
    if (typeof batch?.boxId !== 'string' || !Array.isArray(batch.envelopes))
      return this.send(res, 400, { error: 'expected { boxId, batchId, sentAt, envelopes: [...] }' });
    const maxEnvelopeBytes = this.o.maxEnvelopeBytes ?? 65536;
    if (mode === 'strict') {
      const why = this.accounting.anyInvalid(batch.boxId, batch.envelopes, maxEnvelopeBytes);
      if (why) {
        this.accounting.refusedBatches++;
        return this.send(res, 400, { error: `batch refused: an envelope is invalid (${why})` });
      }
    }
    const share = o.partialShare ?? 0.5;
    const result = this.accounting.process(batch.boxId, batch.envelopes, {
      maxEnvelopeBytes,
      ...(mode === 'partial' ? { take: () => this.random() < share } : {}),
    });
    const batchId = typeof batch.batchId === 'string' ? batch.batchId : null;
    await this.o.onBatch?.({ boxId: batch.boxId, batchId, result, mode });
    if (mode === 'lost-acks' && this.random() < (o.lostShare ?? 0.5)) {
      this.count('lost');
      req.socket.destroy(); // processed, but the box never hears so
      return;
    }
    this.send(res, 200, { batchId, accepted: result.accepted, rejected: result.rejected });
  }
}

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error(`request body larger than ${max} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
