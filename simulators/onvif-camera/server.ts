import http from 'node:http';
import type { Socket } from 'node:net';
import type { SimCamera } from './camera.ts';
import { handleEvents, handleSubscription } from './events.ts';
import { snapshotJpeg } from './jpeg.ts';
import { handleDevice, handleMedia, handlePtz, PRE_AUTH } from './services.ts';
import { fault, notSupported, type Reply } from './soap.ts';
import { firstChildName, get, parse } from './xml.ts';

const MAX_REQUEST_BYTES = 256 * 1024;
const HIK_401 = '<!DOCTYPE html><html><head><title>Document Error: Unauthorized</title></head><body><h2>Access Error: 401 -- Unauthorized</h2></body></html>';

/**
 * One camera's HTTP service: SOAP for device, media, events and PTZ, and a
 * JPEG snapshot behind HTTP Digest. `setReachable(false)` closes the
 * listener and every connection (a camera that lost power); true listens
 * again on the same port.
 */
export class CameraServer {
  private server: http.Server | null = null;
  private sockets = new Set<Socket>();

  constructor(
    readonly cam: SimCamera,
    private readonly host: string,
  ) {}

  get reachable(): boolean {
    return this.server !== null;
  }

  async listen(port = this.cam.port || this.cam.spec.port): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.headersTimeout = 20_000;
    server.requestTimeout = 0; // long polls
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.cam.port = (server.address() as { port: number }).port;
    this.cam.address = this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async setReachable(on: boolean): Promise<void> {
    if (on) await this.listen(this.cam.port);
    else await this.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://camera');
      if (req.method === 'GET' && url.pathname === '/onvif/snapshot') return this.snapshot(req, res);
      if (req.method !== 'POST') return send(res, { status: 405, body: 'POST SOAP here', contentType: 'text/plain' });
      const raw = await readBody(req);
      if (raw === null) return send(res, { status: 413, body: 'request too large', contentType: 'text/plain' });
      const reply = await this.soap(url.pathname, req, raw, (fn) => res.on('close', () => !res.writableFinished && fn()));
      if (this.cam.faults.slowMs > 0) await new Promise<void>((r) => this.cam.clock.setTimer(this.cam.faults.slowMs, r));
      if (!res.destroyed) send(res, reply);
    } catch (err) {
      if (!res.headersSent && !res.destroyed) send(res, fault('Receiver', ['ter:Action'], `camera error: ${(err as Error).message}`));
    }
  }

  private async soap(pathname: string, req: http.IncomingMessage, raw: string, onClientGone: (fn: () => void) => void): Promise<Reply> {
    const doc = parse(raw);
    const env = get(doc, 'Envelope');
    const body = get(env, 'Body');
    const op = firstChildName(body);
    if (!doc || !env || !body || !op) return fault('Sender', ['ter:WellFormed'], 'not a SOAP 1.2 envelope');
    this.cam.count(op);
    const opBody = get(body, op) ?? {};
    const isEvents = pathname === '/onvif/events_service' || pathname.startsWith('/onvif/subscription/');
    if (isEvents && this.cam.faults.eventsDown) return { status: 503, body: 'event service unavailable', contentType: 'text/plain' };
    if (!PRE_AUTH.has(op)) {
      const denied = this.authenticate(req, get(env, 'Header'));
      if (denied) return denied;
    }
    const sub = /^\/onvif\/subscription\/([^/]+)$/.exec(pathname);
    if (sub) return handleSubscription(this.cam, sub[1]!, op, opBody, onClientGone);
    return (
      handleDevice(this.cam, op, opBody) ??
      handleMedia(this.cam, op, opBody) ??
      handleEvents(this.cam, op, opBody) ??
      handlePtz(this.cam, op, opBody) ??
      notSupported(op)
    );
  }

  private authenticate(req: http.IncomingMessage, header: ReturnType<typeof get>): Reply | null {
    const digestOnly = this.cam.spec.auth === 'digest-only';
    const authz = req.headers.authorization;
    const r = this.cam.auth.check('POST', authz, header, !digestOnly);
    if (r.ok) return null;
    const usedDigest = authz?.startsWith('Digest ') ?? false;
    if (r.why === 'missing' || r.why === 'stale' || usedDigest || digestOnly) {
      const challenge = { 'WWW-Authenticate': this.cam.auth.challenge(r.why === 'stale') };
      if (this.cam.flavour === 'hikvision') return { status: 401, body: HIK_401, contentType: 'text/html', headers: challenge };
      const f = fault('Sender', ['ter:NotAuthorized'], r.why === 'locked' ? LOCKED : 'Sender not Authorized');
      return { ...f, status: 401, headers: challenge };
    }
    return fault('Sender', ['ter:NotAuthorized'], r.why === 'locked' ? LOCKED : 'Sender not Authorized');
  }

  private snapshot(req: http.IncomingMessage, res: http.ServerResponse): void {
    const r = this.cam.auth.checkHttp('GET', req.headers.authorization);
    if (!r.ok) {
      return send(res, {
        status: 401,
        body: r.why === 'locked' ? LOCKED : 'Unauthorized',
        contentType: 'text/plain',
        headers: { 'WWW-Authenticate': this.cam.auth.challenge(r.why === 'stale') },
      });
    }
    this.cam.stats.snapshots++;
    const jpeg = snapshotJpeg(`${this.cam.id} ${new Date(this.cam.now()).toISOString()} #${this.cam.stats.snapshots}`);
    send(res, { status: 200, body: '', contentType: 'image/jpeg' }, jpeg);
  }
}

const LOCKED = 'The device is locked because of entering wrong username/password many times. Please try it after 5 minutes!';

function send(res: http.ServerResponse, r: Reply, binary?: Buffer): void {
  const payload = binary ?? Buffer.from(r.body, 'utf8');
  res.writeHead(r.status, {
    'Content-Type': r.contentType ?? 'application/soap+xml; charset=utf-8',
    'Content-Length': String(payload.length),
    Server: 'shouwang-onvif-sim',
    ...r.headers,
  });
  res.end(payload);
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
