import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { BrokerConfig } from '../../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Component } from '../core/component.ts';
import type { Reject } from '../core/driver.ts';
import type { ClientChange, InboundPublish, MqttTransport, Principal } from '../core/mqtt.ts';
import { canPublish, canSubscribe } from './acl.ts';
import type { Credentials } from './credentials.ts';
import { FrameError, FrameGuard } from './frame-guard.ts';
import { ConnectRateLimit } from './rate-limit.ts';

export interface BrokerOptions {
  config: BrokerConfig;
  credentials: Credentials;
  clock: Clock;
  log: Logger;
  /** Offences (ACL violations, oversized packets) are kept with the device id in the rejects table. */
  reject: (r: Reject) => void;
  /** Override the listen port (tests use 0). */
  port?: number;
}

type AuthedClient = Client & { principal?: Principal; bridgeBase?: string };

const LOG_EVERY_MS = 60_000;

/**
 * The embedded MQTT 3.1.1 broker (aedes). Policy lives in its hooks: who may
 * connect (connection cap and per-address rate limit at accept, client id = user name,
 * scrypt-hashed credentials), publish and subscribe (topic ACLs). An
 * authorized publish goes to the inbound handler, and its QoS 1 PUBACK is
 * written only after that handler resolves: aedes acks QoS 1 *before* it
 * calls `published`, so `authorizePublish` is the only seam ahead of the ack.
 */
export class Broker implements Component, MqttTransport {
  readonly name = 'broker';
  private aedes!: Aedes;
  private servers: Server[] = [];
  private sockets = new Set<Socket>();
  private inbound: (msg: InboundPublish) => Promise<void> = async () => {};
  private listeners = new Set<(c: ClientChange) => void>();
  private readonly rate: ConnectRateLimit;
  private lastLog = new Map<string, number>();
  private timedOut = new Set<string>();
  private live = new Map<string, Client>();
  readonly addresses: { port: number; tls: boolean }[] = [];

  constructor(private readonly o: BrokerOptions) {
    this.rate = new ConnectRateLimit(o.config.connectsPerMinutePerAddress);
  }

  onInbound(handler: (msg: InboundPublish) => Promise<void>): void {
    this.inbound = handler;
  }

  onClientChange(listener: (change: ClientChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  connected(principalId: string): boolean {
    return this.live.has(principalId);
  }

  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish({ cmd: 'publish', topic, payload, qos: opts.qos, retain: opts.retain, dup: false } as PublishPacket, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  async start(): Promise<void> {
    const cfg = this.o.config;
    this.aedes = await Aedes.createBroker({
      id: 'shouwang',
      drainTimeout: 10_000,
      keepaliveLimit: cfg.keepaliveMaxSeconds,
      maxClientsIdLength: 64,
      maxTopicLevels: 16,
      connectTimeout: 10_000,
      heartbeatInterval: 600_000,
      authenticate: (client, username, password, done) => void this.authenticate(client as AuthedClient, username, password, done),
      authorizePublish: (client, packet, done) => void this.authorizePublish(client as AuthedClient | null, packet, done),
      authorizeSubscribe: (client, sub, done) => this.authorizeSubscribe(client as AuthedClient, sub, done),
    });
    this.aedes.on('clientReady', (client: AuthedClient) => {
      if (client.principal) this.live.set(client.principal.id, client);
      if (client.principal) this.emit({ type: 'connected', principal: client.principal, address: remoteAddress(client), at: this.o.clock.now() });
    });
    this.aedes.on('keepaliveTimeout', (client: AuthedClient) => this.timedOut.add(client.id));
    this.aedes.on('clientDisconnect', (client: AuthedClient) => {
      if (!client.principal) return;
      if (this.live.get(client.principal.id) !== client) return; // replaced by a newer connection with the same id
      this.live.delete(client.principal.id);
      const reason = this.timedOut.delete(client.id) ? 'keepalive_timeout' : 'closed';
      this.emit({ type: 'disconnected', principal: client.principal, reason, at: this.o.clock.now() });
    });
    this.aedes.on('clientError', (client: AuthedClient, err: Error) => {
      if (isHangUp(err)) return; // a device going away is reported as a disconnect, not an error
      this.logOnce(`err:${client.id}`, 'warn', { client: client.id, err: err.message }, 'MQTT client error');
    });
    this.aedes.on('connectionError', (client: AuthedClient, err: Error) =>
      this.logOnce(`conn:${remoteAddress(client)}`, 'warn', { address: remoteAddress(client), err: err.message }, 'MQTT connection refused or failed'),
    );

    const limit = cfg.maxPayloadBytes + 1024; // payload plus topic and header
    const handle = (socket: Socket) => {
      // Caps and rate limits at accept time, before a byte is parsed.
      const address = socket.remoteAddress ?? 'unknown';
      if (this.sockets.size >= cfg.maxConnections) {
        this.logOnce('cap', 'warn', { max: cfg.maxConnections }, 'MQTT connection cap reached: refusing new connections (broker.maxConnections)');
        return void socket.destroy();
      }
      if (!this.rate.allow(address, this.o.clock.now())) {
        this.logOnce(
          `rate:${address}`,
          'warn',
          { address, perMinute: cfg.connectsPerMinutePerAddress },
          'too many MQTT connects from one address: refusing for now',
        );
        return void socket.destroy();
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      const guard = new FrameGuard(limit);
      guard.on('error', (err) => {
        if (!(err instanceof FrameError)) return; // the broker closing the connection, not the guard
        this.o.reject({ deviceId: null, source: `mqtt ${socket.remoteAddress ?? '?'}`, reason: err.message });
        this.logOnce(
          `big:${socket.remoteAddress}`,
          'warn',
          { address: socket.remoteAddress, err: err.message },
          'MQTT packet over the size limit: connection closed',
        );
        socket.destroy();
      });
      const conn = Duplex.from({ readable: socket.pipe(guard), writable: socket }) as Duplex & { remoteAddress?: string };
      conn.remoteAddress = socket.remoteAddress;
      conn.on('error', () => socket.destroy());
      conn.on('close', () => socket.destroy());
      this.aedes.handle(conn);
    };
    const plain = createServer(handle);
    await listen(plain, cfg.host, this.o.port ?? cfg.port, 'broker.port');
    this.servers.push(plain);
    this.addresses.push({ port: (plain.address() as { port: number }).port, tls: false });
    if (cfg.tls) {
      const secure = createTlsServer({ key: await readFile(cfg.tls.keyFile), cert: await readFile(cfg.tls.certFile) }, handle as (s: Socket) => void);
      await listen(secure, cfg.host, cfg.tls.port, 'broker.tls.port');
      this.servers.push(secure);
      this.addresses.push({ port: (secure.address() as { port: number }).port, tls: true });
    }
    this.o.log.info({ host: cfg.host, listen: this.addresses, accounts: this.o.credentials.size }, 'MQTT broker listening');
  }

  async stop(): Promise<void> {
    for (const s of this.servers) s.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.aedes ? this.aedes.close(() => resolve()) : resolve()));
    this.servers = [];
  }

  private emit(change: ClientChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.o.log.error({ err }, 'a client-change listener failed');
      }
    }
  }

  private async authenticate(
    client: AuthedClient,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthenticateError | null, ok: boolean) => void,
  ): Promise<void> {
    const r = await this.o.credentials.verify(username, password);
    if (!r.ok) {
      // Never log the password; log once per user name per minute.
      this.logOnce(`auth:${username}`, 'warn', { username, clientId: client.id, address: remoteAddress(client), reason: r.reason }, 'MQTT login refused');
      return done(Object.assign(new Error(r.reason), { returnCode: r.code }) as AuthenticateError, false);
    }
    if (client.id !== username) {
      this.logOnce(`auth:${username}`, 'warn', { username, clientId: client.id }, 'MQTT login refused: the client id must be the device id');
      return done(Object.assign(new Error('client id must equal the user name'), { returnCode: 2 }) as AuthenticateError, false);
    }
    client.principal = r.principal;
    if (r.bridgeBase !== undefined) client.bridgeBase = r.bridgeBase;
    done(null, true);
  }

  private async authorizePublish(client: AuthedClient | null, packet: PublishPacket, done: (err?: Error | null) => void): Promise<void> {
    if (!client) return done(null); // the box's own publishes
    const principal = client.principal;
    if (!principal) return done(new Error('not authenticated'));
    const verdict = canPublish(principal, packet.topic, client.bridgeBase);
    if (!verdict.ok) {
      this.o.reject({ deviceId: principal.id, source: packet.topic, reason: verdict.reason });
      this.logOnce(`acl:${principal.id}`, 'warn', { device: principal.id, topic: packet.topic }, `publish refused: ${verdict.reason}; connection closed`);
      return done(new Error(verdict.reason));
    }
    try {
      await this.inbound({
        principal,
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
        dup: packet.dup === true,
        receivedAt: this.o.clock.now(),
      });
      done(null);
    } catch (err) {
      // Not stored: drop the connection without PUBACK; the device resends.
      this.logOnce(
        `store:${principal.id}`,
        'error',
        { device: principal.id, err: (err as Error).message },
        'could not store a device message: not acknowledged, the device will resend',
      );
      done(err as Error);
    }
  }

  private authorizeSubscribe(client: AuthedClient, sub: Subscription, done: (err: Error | null, sub: Subscription | null) => void): void {
    const principal = client.principal;
    if (!principal) return done(new Error('not authenticated'), null);
    const verdict = canSubscribe(principal, sub.topic, client.bridgeBase);
    if (!verdict.ok) {
      this.o.reject({ deviceId: principal.id, source: sub.topic, reason: verdict.reason });
      this.logOnce(`sub:${principal.id}`, 'warn', { device: principal.id, topic: sub.topic }, `subscription refused: ${verdict.reason}`);
      return done(null, null); // SUBACK 0x80, the connection stays
    }
    done(null, sub);
  }

  private logOnce(key: string, level: 'warn' | 'error', obj: object, msg: string): void {
    const now = this.o.clock.now();
    const last = this.lastLog.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    this.lastLog.set(key, now);
    if (this.lastLog.size > 10_000) this.lastLog.delete(this.lastLog.keys().next().value!);
    this.o.log[level](obj, msg);
  }
}

function remoteAddress(client: Client | null): string | null {
  const conn = (client as unknown as { conn?: { remoteAddress?: string } } | null)?.conn;
  return conn?.remoteAddress ?? null;
}

function listen(server: Server, host: string, port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`${path}: ${host}:${port} is already in use — stop the other program or choose another port`) : err),
    );
    server.listen(port, host, () => resolve());
  });
}

/** The ways a connection ends that are not errors of the device's. */
function isHangUp(err: Error & { code?: string }): boolean {
  return err.name === 'AbortError' || err.code === 'ABORT_ERR' || err.code === 'ECONNRESET' || err.code === 'EPIPE' || /premature close/i.test(err.message);
}
