/**
 * Broker side of the ingest benchmark, run by `bench/ingest.ts` in its own
 * process (so its RSS and CPU are measured apart from the load):
 *
 *   node --import tsx bench/ingest-gateway.ts --data DIR --devices N     the gateway (App) on DIR
 *        [--county URL --county-token T]                                  … pushing to a county at URL (bearer T), default forwarding
 *   node --import tsx bench/ingest-gateway.ts --bare                     a bare aedes (no hooks, in-memory)
 *
 * Prints one JSON line `{"ready":true,"port":P,"pid":…}` once it listens on
 * 127.0.0.1:P. A line `stats` on stdin answers one JSON line with what happened
 * since the previous `stats` (or `ready`): event-loop utilization and delay,
 * the store's group commits (gateway only), RSS and heap. SIGTERM (or stdin
 * closing, or MAX_LIFE_MS) stops it cleanly: `{"stopped":true,…}`, exit 0.
 *
 * Not a benchmark of its own: `npm run bench -- ingest-gateway` only says so.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { parseConfig } from '../config/load.ts';
import type { SiteConfig } from '../config/schema.ts';
import type { CommitStats } from '../gateway/store/writer.ts';
import { App } from '../gateway/app.ts';
import { deviceId, devicePassword } from './_ingest-devices.ts';
import { memoryPeaks } from './_memory-peaks.ts';

/** A runaway child never outlives this, whatever the parent does. */
const MAX_LIFE_MS = 15 * 60_000;
const GRID = '320602001001-01';

/** A demo site on loopback with `n` access controllers and a broker sized for them; with `county`, an HTTP upstream (defaults otherwise). */
export function benchSite(n: number, county?: { url: string; token: string }): SiteConfig {
  const devices = Array.from({ length: n }, (_, i) => {
    const id = deviceId(i);
    return {
      id,
      kind: 'access_controller',
      name: `门禁${i}`,
      grid: GRID,
      place: { point: 'entrance' },
      password: devicePassword(id),
      door: { name: `门${i}` },
    };
  });
  const r = parseConfig({
    demo: true,
    site: { boxId: 'sw-320602-010', name: '压测小区', divisionCode: '320602001001', kind: 'urban_estate' },
    grids: [{ code: GRID, name: '一网格' }],
    devices,
    panel: { host: '127.0.0.1', port: 8080 },
    broker: { host: '127.0.0.1', port: 1883, maxConnections: Math.min(100_000, n + 50), connectsPerMinutePerAddress: 100_000 },
    ...(county ? { upstream: { county: { url: county.url, auth: { type: 'bearer', token: county.token } } } } : {}),
  });
  if (!r.ok) throw new Error(`bench site invalid: ${JSON.stringify(r.problems)}`);
  return r.config;
}

interface Args {
  bare: boolean;
  data: string | null;
  devices: number;
  county: { url: string; token: string } | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { bare: false, data: null, devices: 200, county: null };
  let token: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--bare') a.bare = true;
    else if (k === '--data') a.data = argv[++i] ?? null;
    else if (k === '--devices') a.devices = Math.max(1, Math.floor(Number(argv[++i])));
    else if (k === '--county') a.county = { url: argv[++i] ?? '', token: '' };
    else if (k === '--county-token') token = argv[++i] ?? null;
    else throw new Error(`ingest-gateway: unknown argument ${k}`);
  }
  if (!a.bare && !a.data) throw new Error('ingest-gateway: --data DIR is required (or --bare)');
  if (!Number.isFinite(a.devices)) throw new Error('ingest-gateway: --devices needs a number');
  if (a.county && !token) throw new Error('ingest-gateway: --county needs --county-token');
  if (a.county) a.county.token = token!;
  return a;
}

/** The JS heap still reachable after a full GC (MB), when the process runs with --expose-gc; else null. */
function liveHeapMb(): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1048576);
}

const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

/** Group commits seen through the metrics hook (the store reports every commit there). */
class CommitTally {
  commits = 0;
  jobs = 0;
  rows = 0;
  ms = 0;
  maxMs = 0;
  failed = 0;
  add(s: CommitStats): void {
    this.commits++;
    this.jobs += s.jobs;
    this.rows += s.rows;
    this.ms += s.durationMs;
    if (s.durationMs > this.maxMs) this.maxMs = s.durationMs;
    if (!s.ok) this.failed++;
  }
  take() {
    const c = Math.max(1, this.commits);
    const r = {
      commits: this.commits,
      jobs_per_commit: Math.round((this.jobs / c) * 10) / 10,
      rows_per_commit: Math.round((this.rows / c) * 10) / 10,
      commit_ms_avg: Math.round((this.ms / c) * 100) / 100,
      commit_ms_max: Math.round(this.maxMs * 10) / 10,
      writer_busy_ms: Math.round(this.ms),
      failed: this.failed,
    };
    Object.assign(this, { commits: 0, jobs: 0, rows: 0, ms: 0, maxMs: 0, failed: 0 });
    return r;
  }
}

async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const tally = new CommitTally();
  let stop: () => Promise<void>;
  let port: number;
  if (args.bare) {
    const broker = await Aedes.createBroker({});
    const server: Server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    port = (server.address() as { port: number }).port;
    const sockets = new Set<Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    stop = async () => {
      server.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    };
  } else {
    // Warnings and errors of the gateway go to stderr (the parent forwards them); nothing else is logged.
    const log = pino({ level: 'warn' }, pino.destination(2));
    const app = new App({ config: benchSite(args.devices, args.county ?? undefined), dataDir: args.data!, log, version: 'bench', httpPort: 0, brokerPort: 0 });
    // Count commits too: start() hands metrics.onCommit to the store, so wrap it before.
    const original = app.metrics.onCommit;
    app.metrics.onCommit = (c) => {
      tally.add(c);
      original(c);
    };
    await app.start();
    port = app.broker.addresses[0]!.port;
    stop = () => app.stop();
  }

  let stopping: Promise<void> | null = null;
  const shutdown = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      const t0 = performance.now();
      let error: string | null = null;
      try {
        await stop();
      } catch (err) {
        error = (err as Error).message;
      }
      const mu = process.memoryUsage();
      say({ stopped: true, why, stop_ms: Math.round(performance.now() - t0), rss: mu.rss, heap_used: mu.heapUsed, error });
      process.exit(error ? 1 : 0);
    })());
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  setTimeout(() => void shutdown('max life'), MAX_LIFE_MS).unref();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  // Peaks between two `stats`: what of the process's memory is the JS heap, what is outside it.
  const peaks = memoryPeaks();
  tally.take();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() !== 'stats') return;
    const mu = process.memoryUsage();
    const now = performance.eventLoopUtilization();
    say({
      stats: true,
      elu: Math.round(performance.eventLoopUtilization(now, elu).utilization * 1000) / 1000,
      loop_delay_p99_ms: Math.round(delay.percentile(99) / 1e4) / 100,
      loop_delay_max_ms: Math.round(delay.max / 1e4) / 100,
      ...(args.bare ? {} : { commit: tally.take() }),
      rss: mu.rss,
      heap_total: mu.heapTotal,
      heap_used: mu.heapUsed,
      external: mu.external,
      array_buffers: mu.arrayBuffers,
      peak_mb: peaks.take(),
      live_heap_mb: liveHeapMb(),
    });
    elu = now;
    delay.reset();
  });
  rl.on('close', () => void shutdown('stdin closed')); // the parent went away
  say({ ready: true, port, pid: process.pid, bare: args.bare });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`ingest-gateway: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
