/**
 * What every fault drill shares: a site file on loopback, the gateway as a
 * real child process (`gw start`, so kill -9 and restarts are real), a fleet
 * of mqtt.js devices that remember what the box acknowledged, the database
 * read back after the run, and the gateway's RSS, CPU and open files from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { Db } from '../gateway/store/db.ts';
import { DB_NAME } from '../gateway/store/store.ts';

export interface DrillOptions {
  /** The short form CI runs. */
  quick: boolean;
  /** Progress lines for people (stderr). */
  say: (line: string) => void;
}

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface DrillResult {
  figures: Record<string, number | string | boolean | null>;
  checks: Check[];
}

export interface Drill {
  summary: string;
  run(o: DrillOptions): Promise<DrillResult>;
}

export const GRID = '320602001001-01';
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

export type DeviceSpec = { id: string; kind: 'access_controller' | 'alarm_panel' | 'sensor'; sensorType?: 'pir' | 'smoke' };

/** `n` access controllers door-0000.., plus the extra devices given. */
export function doors(n: number): DeviceSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: `door-${String(i).padStart(4, '0')}`, kind: 'access_controller' as const }));
}

export const password = (id: string) => `${id}-demo`;

export interface SiteOptions {
  devices: DeviceSpec[];
  httpPort: number;
  mqttPort: number;
  /** Site-file sections merged over the defaults (storage, broker, upstream, ...). */
  extra?: Record<string, unknown>;
}

/** Write a demo site (loopback only, demo passwords) and return its path. */
export function writeSite(dir: string, o: SiteOptions): string {
  const devices = o.devices.map((d) => {
    const base = { id: d.id, name: d.id, grid: GRID, place: { point: 'entrance' }, password: password(d.id) };
    if (d.kind === 'access_controller') return { ...base, kind: d.kind, door: { name: d.id } };
    if (d.kind === 'alarm_panel') return { ...base, kind: d.kind, zones: [{ number: 1, name: '周界', type: 'perimeter' }] };
    return { ...base, kind: d.kind, sensorType: d.sensorType ?? 'pir' };
  });
  const site = {
    demo: true,
    site: { boxId: 'sw-320602-099', name: '演练小区', divisionCode: '320602001001', kind: 'urban_estate' },
    grids: [{ code: GRID, name: '一网格' }],
    devices,
    panel: { host: '127.0.0.1', port: o.httpPort },
    ...o.extra,
    broker: {
      host: '127.0.0.1',
      port: o.mqttPort,
      maxConnections: o.devices.length + 100,
      connectsPerMinutePerAddress: 100_000,
      ...((o.extra?.broker as object | undefined) ?? {}),
    },
  };
  const file = join(dir, 'site.yaml');
  writeFileSync(file, stringify(site));
  return file;
}

export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  output(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/** Start `gw start` and wait until /healthz answers. */
export async function startGateway(site: string, data: string, httpPort: number, timeoutMs = 60_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts', 'start', '--config', site, '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`the gateway exited before it answered /healthz:\n${out.slice(-4000)}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`the gateway did not answer /healthz within ${timeoutMs} ms:\n${out.slice(-4000)}`);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  return {
    child,
    pid: child.pid!,
    exited,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function health(httpPort: number): Promise<{ ok: boolean; body: unknown }> {
  try {
    const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(5000) });
    return { ok: r.ok, body: await r.json() };
  } catch (err) {
    return { ok: false, body: String(err) };
  }
}

/** RSS (MB), CPU seconds (user + system) and open file descriptors of a process, from /proc. */
export function procStats(pid: number): { rssMb: number; cpuSeconds: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s on Linux)
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Sample a process every `everyMs` until stopped; keeps every sample. */
export function sampler(pid: number, everyMs = 500) {
  const samples: { at: number; rssMb: number; cpuSeconds: number; fds: number }[] = [];
  const take = () => {
    try {
      samples.push({ at: Date.now(), ...procStats(pid) });
    } catch {
      // the process is gone (killed on purpose)
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    peakRssMb: () => Math.max(0, ...samples.map((s) => s.rssMb)),
    stop: () => {
      take();
      clearInterval(timer);
    },
  };
}

/**
 * One device that keeps what it published and what the box acknowledged
 * (PUBACK), so a drill can tell whether anything acknowledged went missing.
 */
export class Device {
  readonly acked = new Set<string>();
  sent = 0;
  client: MqttClient | null = null;

  constructor(
    readonly id: string,
    private readonly url: string,
    private readonly opts: {
      reconnectPeriod?: number;
      connectTimeout?: number;
      /** Prefix that keeps event ids unique across Device objects of one device. */ tag?: string;
    } = {},
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const c = mqtt.connect(this.url, {
        protocolVersion: 4,
        clientId: this.id,
        username: this.id,
        password: password(this.id),
        clean: false,
        keepalive: 60,
        reconnectPeriod: this.opts.reconnectPeriod ?? 500,
        connectTimeout: this.opts.connectTimeout ?? 30_000,
      });
      this.client = c;
      c.on('error', () => {});
      const timer = setTimeout(() => reject(new Error(`${this.id}: no CONNACK within 60 s`)), 60_000);
      c.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get inflight(): number {
    return this.sent - this.acked.size;
  }

  /** Publish one QoS 1 event with a unique id; the payload is built from that id. */
  publish(payload: (id: string) => object, topic = `sw/v1/${this.id}/event`): string {
    const id = `${this.id}-${this.opts.tag ?? ''}${++this.sent}`;
    this.send(topic, JSON.stringify(payload(id)), id, 0);
    return id;
  }

  /**
   * mqtt.js fails a publish caught in a reconnect ("Connection closed") instead of resending it: the device
   * sends it again a moment later, as a real one would (bounded).
   */
  private send(topic: string, body: string, id: string, attempt: number): void {
    this.client!.publish(topic, body, { qos: 1 }, (err) => {
      if (!err) this.acked.add(id);
      else if (attempt < 100 && !this.ended) setTimeout(() => this.send(topic, body, id, attempt + 1), 200);
    });
  }

  private ended = false;

  end(): Promise<void> {
    this.ended = true;
    return new Promise((resolve) => (this.client ? this.client.end(true, {}, () => resolve()) : resolve()));
  }
}

export const access = (id: string) => ({ id, type: 'access', result: 'granted', method: 'card' });
export const zoneAlarm = (id: string) => ({ id, type: 'zone', zone: 1, zoneType: 'perimeter', state: 'alarm' });
export const pir = (id: string) => ({ id, type: 'pir', state: 'motion' });

/** Connect devices with at most `concurrency` CONNECTs at once (Infinity: all at once). */
export async function connectAll(devices: Device[], concurrency = Infinity): Promise<void> {
  const queue = [...devices];
  const workers = Array.from({ length: Math.min(queue.length, concurrency) }, async () => {
    for (let d = queue.shift(); d; d = queue.shift()) await d.connect();
  });
  await Promise.all(workers);
}

/**
 * Offer `rate` events/s spread round-robin over the devices for `seconds`,
 * skipping a device while it has `maxInflight` unacknowledged. Bounded in time.
 */
export async function offer(
  devices: Device[],
  rate: number,
  seconds: number,
  payload: (d: Device) => (id: string) => object,
  maxInflight = 50,
): Promise<number> {
  const t0 = Date.now();
  let i = 0;
  let offered = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    while (offered < due) {
      const d = devices[i++ % devices.length]!;
      offered++;
      if (d.client?.connected && d.inflight < maxInflight) d.publish(payload(d));
    }
    await sleep(5);
  }
  return offered;
}

/** Wait until every device has its publishes acknowledged, or `ms` passes. */
export async function settle(devices: Device[], ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (devices.every((d) => d.inflight === 0)) return true;
    await sleep(50);
  }
  return false;
}

/** Read the stored events' device event ids (dedupe keys) with their counts. */
export async function storedEventIds(data: string): Promise<Map<string, number>> {
  return withDb(data, async (db) => {
    const rows = await db.all<{ k: string; n: number }>('SELECT dedupe_key AS k, COUNT(*) AS n FROM events WHERE dedupe_key IS NOT NULL GROUP BY dedupe_key');
    return new Map(rows.map((r) => [r.k, r.n]));
  });
}

export async function withDb<T>(data: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await Db.open(join(data, DB_NAME), { readonly: true });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Compare what the devices saw acknowledged with what the store holds. */
export async function lossReport(devices: Device[], data: string): Promise<{ acked: number; lost: number; duplicated: number; firstLost: string[] }> {
  const stored = await storedEventIds(data);
  let acked = 0;
  const lost: string[] = [];
  let duplicated = 0;
  for (const d of devices) {
    for (const id of d.acked) {
      acked++;
      const n = stored.get(id) ?? 0;
      if (n === 0) lost.push(id);
      if (n > 1) duplicated++;
    }
  }
  return { acked, lost: lost.length, duplicated, firstLost: lost.slice(0, 5) };
}

export const check = (name: string, ok: boolean, detail?: string): Check => ({ name, ok, ...(detail !== undefined ? { detail } : {}) });
export const round1 = (n: number) => Math.round(n * 10) / 10;
