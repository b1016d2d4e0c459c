/**
 * MQTT ingest benchmark: how many device events per second the gateway takes in
 * (PUBACK only after the SQLite commit), at what latency, with how much memory and CPU.
 *
 *   npm run bench -- ingest [--json] [--quick] [--seconds S] [--devices N] [--inflight K] [--profile DIR] [--gateway-flags "FLAGS"]
 *                           [--no-production-flags]
 *
 * Processes, all on 127.0.0.1 and all killed at the end (temp data dir removed):
 *   - the broker under test (`bench/_ingest-gateway.ts`): the whole gateway (App, N access_controller
 *     devices, demo site) on a temp data dir; then, as the baseline, a bare aedes (no hooks, in-memory);
 *     both compiled, as the box runs the gateway: `node <production flags> dist/bench/_ingest-gateway.js`
 *     (dist/ built first when missing or stale; the production flags are those of `npm run serve`);
 *   - two load generators (`bench/_ingest-load.ts`), each with half of the N device connections.
 *
 * Phases against each broker:
 *   1 warmup      closed loop, short, not counted in the rates
 *   2 throughput  closed loop: every device keeps K QoS 1 events in flight for S s → PUBACKs/s;
 *                 broker process CPU from /proc/<pid>/stat over the phase
 *   3 latency     open loop, 2,000 events/s offered in total for S s; latency = PUBACK − scheduled time
 * Then the gateway is stopped and its database is checked: stored access_granted events ≥ PUBACKs.
 * RSS is the broker process's VmHWM (peak) from /proc/<pid>/status before it stops.
 *
 * Prints a table; with --json the last stdout line is one JSON object. --profile DIR runs the
 * gateway process with --cpu-prof into DIR; --gateway-flags passes more node flags to it (e.g. heap
 * sizing), --no-production-flags leaves out those of the production start (both brokers). The table also says how much CPU other processes took meanwhile: on a busy box the
 * figures are skewed. Every wait is bounded.
 */
import os, { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sqlite3 from 'sqlite3';
import { DB_NAME } from '../gateway/store/store.ts';
import { tempDir } from '../tests/helpers/store.ts';
import { boxJiffies, Child, cpuSeconds, memMb, type Mem, type Msg } from './_proc.ts';
import { ensureBuild, productionStart, type BuildState } from './_production.ts';
import { fmt, percentile, rate, round, table } from './_report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const OFFERED_PER_S = 2_000;
const LOADERS = 2;
const TARGETS = { events_per_s: 10_000, ratio: 0.6, puback_p99_ms: 50, rss_mb: 150 } as const;
const START_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 120_000;
/** Slack on top of a phase's own seconds (the load generators drain for up to 15 s). */
const PHASE_SLACK_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------- options

interface Options {
  json: boolean;
  quick: boolean;
  seconds: number;
  devices: number;
  inflight: number;
  profile: string | null;
  /** Extra node flags for the gateway process only (diagnosis, e.g. "--max-old-space-size=64"). */
  gatewayFlags: string[];
  /** Start both brokers with the production start's node flags (default) or without them. */
  productionFlags: boolean;
  /** The compiled build the brokers run from, and the flags they get from the production start. */
  build: BuildState | null;
  prodFlags: string[];
  /** The production start's environment (glibc malloc settings), for both brokers. */
  prodEnv: Record<string, string>;
}

function parseArgs(args: string[]): Options {
  const opts: Options = {
    json: false,
    quick: false,
    seconds: 10,
    devices: 200,
    inflight: 10,
    profile: null,
    gatewayFlags: [],
    productionFlags: true,
    build: null,
    prodFlags: [],
    prodEnv: {},
  };
  let secondsSet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): number => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--json') opts.json = true;
    else if (a === '--quick') opts.quick = true;
    else if (a === '--seconds') {
      opts.seconds = Math.min(300, value());
      secondsSet = true;
    } else if (a === '--devices') opts.devices = Math.max(LOADERS, Math.min(5000, Math.floor(value())));
    else if (a === '--inflight') opts.inflight = Math.min(1000, Math.floor(value()));
    else if (a === '--profile') {
      const d = args[++i];
      if (!d) throw new Error('--profile needs a directory');
      opts.profile = resolve(d);
    } else if (a === '--gateway-flags') {
      const f = args[++i];
      if (!f || !f.trim().startsWith('--')) throw new Error('--gateway-flags needs node flags, e.g. "--max-old-space-size=64"');
      opts.gatewayFlags = f.trim().split(/\s+/);
    } else if (a === '--no-production-flags') opts.productionFlags = false;
    else
      throw new Error(
        `unknown flag ${a} (flags: --json --quick --seconds S --devices N --inflight K --profile DIR --gateway-flags "FLAGS" --no-production-flags)`,
      );
  }
  if (opts.quick && !secondsSet) opts.seconds = 3;
  return opts;
}

// ---------------------------------------------------------------- helpers

const num = (m: Msg, k: string): number => (typeof m[k] === 'number' ? (m[k] as number) : 0);
const sum = (ms: Msg[], k: string): number => ms.reduce((s, m) => s + num(m, k), 0);

function firstError(ms: Msg[]): string | null {
  for (const m of ms) if (typeof m.error === 'string') return m.error;
  return null;
}

// ---------------------------------------------------------------- one broker under load

interface Stats {
  elu?: number;
  loop_delay_p99_ms?: number;
  loop_delay_max_ms?: number;
  commit?: { commits: number; jobs_per_commit: number; commit_ms_avg: number; commit_ms_max: number; writer_busy_ms: number; failed: number };
  heap_used?: number;
  /** Peaks sampled every 100 ms inside the broker process (MB). */
  peak_mb?: { rss: number; heap_total: number; heap_used: number; external: number; array_buffers: number };
  /** JS heap live after a full GC at the end of the phase (MB). */
  live_heap_mb?: number | null;
}

interface RunResult {
  kind: 'gateway' | 'bare';
  startMs: number;
  connected: number;
  connectMs: number;
  connectError: string | null;
  throughput: { acked: number; perS: number; windowMs: number; sent: number; errors: number; drops: number; unfinished: number; error: string | null };
  cpuPct: number;
  /** The broker's main thread alone (the event loop: aedes, the ingest step; the rest is SQLite's thread pool and V8's GC helpers). */
  mainCpuPct: number;
  /** CPU microseconds per acked event over the throughput phase: the broker process, its main thread, the load generators. */
  usPerEvent: { broker: number; main: number; load: number };
  /** Both load generators together over the throughput phase. */
  loadCpuPct: number;
  /** The rest of the box (not the broker, the loads or this process) over the throughput phase. */
  otherCpuPct: number;
  latency: {
    offered: number;
    completed: number;
    achievedPerS: number;
    p50: number;
    p99: number;
    p999: number;
    max: number;
    errors: number;
    drops: number;
    unfinished: number;
    maxFireLagMs: number;
    error: string | null;
  };
  rssMb: number;
  rssEndMb: number;
  /** VmRSS when listening, after connecting, after the throughput and latency phases. */
  rssStages: { ready: Mem; connected: Mem; throughput: Mem; latency: Mem };
  /** What the broker process saw during the throughput and the latency phase. */
  stats: { throughput: Stats; latency: Stats };
  acked: number;
  sent: number;
  stopMs: number | null;
  dataDir: string | null;
}

async function runAgainst(
  kind: 'gateway' | 'bare',
  opts: Options,
  children: Child[],
  progress: (m: string) => void,
  dataDir: string | null,
): Promise<RunResult> {
  const N = opts.devices;
  // --expose-gc: `stats` reports the heap still live after a full GC (once per phase, between phases).
  const nodeFlags = ['--expose-gc', ...opts.prodFlags];
  if (kind === 'gateway') nodeFlags.push(...(opts.profile ? ['--cpu-prof', '--cpu-prof-dir', opts.profile] : []), ...opts.gatewayFlags);
  const t0 = performance.now();
  const server = Child.node(
    kind,
    'dist/bench/_ingest-gateway.js',
    kind === 'bare' ? ['--bare'] : ['--data', dataDir!, '--devices', String(N)],
    nodeFlags,
    opts.prodEnv,
  );
  children.push(server);
  const ready = await server.next(START_TIMEOUT_MS, 'ready');
  const port = num(ready, 'port');
  if (!ready.ready || !port) throw new Error(`${kind}: unexpected first line ${JSON.stringify(ready)}`);
  const startMs = Math.round(performance.now() - t0);
  const memReady = memMb(server.pid);

  progress(`${kind}: ${N} device connections from ${LOADERS} load processes`);
  const loads: Child[] = [];
  const per = Math.ceil(N / LOADERS);
  for (let i = 0; i < LOADERS; i++) {
    const from = i * per;
    const count = Math.max(0, Math.min(per, N - from));
    const c = Child.node(`load-${i + 1}`, '_ingest-load.ts', ['--port', String(port), '--from', String(from), '--count', String(count)]);
    children.push(c);
    loads.push(c);
  }
  const all = (what: string, ms: number) => Promise.all(loads.map((l) => l.next(ms, what)));
  const conn = await all('connect', CONNECT_TIMEOUT_MS);
  const connected = sum(conn, 'connected');
  const memConnected = memMb(server.pid);

  let acked = 0;
  let sent = 0;
  const warm = Math.min(2, Math.max(0.5, opts.seconds / 5));
  progress(`${kind}: warmup, closed loop ${warm} s`);
  for (const l of loads) l.send({ cmd: 'closed', tag: 'warmup', seconds: warm, inflight: opts.inflight });
  const w = await all('warmup', warm * 1000 + PHASE_SLACK_MS);
  acked += sum(w, 'acked_total');
  sent += sum(w, 'sent');

  const stats = async (what: string): Promise<Stats> => {
    server.proc.stdin!.write('stats\n');
    return (await server.next(10_000, what)) as Stats;
  };
  await stats('stats reset');

  progress(`${kind}: throughput, closed loop ${opts.inflight} in flight per device, ${opts.seconds} s`);
  const cpu0 = cpuSeconds(server.pid);
  const main0 = cpuSeconds(server.pid, server.pid);
  const loadCpu0 = loads.reduce((t, l) => t + cpuSeconds(l.pid), 0);
  const box0 = boxJiffies();
  const self0 = process.cpuUsage();
  const c0 = performance.now();
  for (const l of loads) l.send({ cmd: 'closed', tag: 'throughput', seconds: opts.seconds, inflight: opts.inflight });
  const tp = await all('throughput', opts.seconds * 1000 + PHASE_SLACK_MS);
  // CPU over the phase proper: the window plus its drain (all loads answered by now).
  const phaseS = (performance.now() - c0) / 1000;
  const cpuS = cpuSeconds(server.pid) - cpu0;
  const mainS = cpuSeconds(server.pid, server.pid) - main0;
  const loadS = loads.reduce((t, l) => t + cpuSeconds(l.pid), 0) - loadCpu0;
  const cpuPct = round((cpuS / phaseS) * 100, 1);
  const loadCpuPct = round((loadS / phaseS) * 100, 1);
  const ackedInPhase = Math.max(1, sum(tp, 'acked_total'));
  const usPerEvent = {
    broker: round((cpuS * 1e6) / ackedInPhase, 1),
    main: round((mainS * 1e6) / ackedInPhase, 1),
    load: round((loadS * 1e6) / ackedInPhase, 1),
  };
  const box1 = boxJiffies();
  const self = process.cpuUsage(self0);
  const boxBusyPct = ((box1.busy - box0.busy) / Math.max(1, box1.total - box0.total)) * cpus().length * 100;
  // CPU the box spent on anything but this benchmark's processes: other work skews the figures.
  const otherCpuPct = round(Math.max(0, boxBusyPct - cpuPct - loadCpuPct - ((self.user + self.system) / 1e6 / phaseS) * 100), 1);
  acked += sum(tp, 'acked_total');
  sent += sum(tp, 'sent');
  const ackedInWindow = sum(tp, 'acked_in_window');
  const windowMs = Math.max(...tp.map((m) => num(m, 'window_ms')));
  const memThroughput = memMb(server.pid);
  const tpStats = await stats('throughput stats');

  progress(`${kind}: latency, open loop ${OFFERED_PER_S.toLocaleString('en-US')} events/s offered, ${opts.seconds} s`);
  loads.forEach((l, i) => l.send({ cmd: 'open', seconds: opts.seconds, rate: OFFERED_PER_S / LOADERS, phase: i / LOADERS }));
  const lat = await all('latency', opts.seconds * 1000 + PHASE_SLACK_MS);
  const completed = sum(lat, 'completed');
  acked += completed;
  sent += sum(lat, 'offered');
  const latencies = new Float64Array(completed);
  let k = 0;
  for (const m of lat) for (const v of (m.latencies as number[] | undefined) ?? []) latencies[k++] = v;
  const sorted = latencies.subarray(0, k).sort();
  const elapsedMs = Math.max(...lat.map((m) => num(m, 'elapsed_ms')));

  const mem = memMb(server.pid);
  const latStats = await stats('latency stats');
  for (const l of loads) l.send({ cmd: 'end' });
  await Promise.all(loads.map((l) => l.next(10_000, 'end').catch(() => null)));
  await Promise.all(loads.map((l) => l.stop(2000)));

  progress(`${kind}: stopping`);
  let stopMs: number | null = null;
  server.proc.kill('SIGTERM');
  const stopped = await server.next(STOP_TIMEOUT_MS, 'stop').catch(() => null);
  if (stopped?.stopped) stopMs = num(stopped, 'stop_ms');
  if (stopped && typeof stopped.error === 'string') throw new Error(`${kind}: stop failed: ${stopped.error}`);
  await server.stop(5000);

  return {
    kind,
    startMs,
    connected,
    connectMs: Math.max(...conn.map((m) => num(m, 'ms'))),
    connectError: firstError(conn),
    throughput: {
      acked: ackedInWindow,
      perS: rate(ackedInWindow, windowMs),
      windowMs,
      sent: sum(tp, 'sent'),
      errors: sum(tp, 'errors'),
      drops: sum(tp, 'drops'),
      unfinished: sum(tp, 'unfinished'),
      error: firstError(tp),
    },
    cpuPct,
    mainCpuPct: round((mainS / phaseS) * 100, 1),
    usPerEvent,
    loadCpuPct,
    otherCpuPct,
    latency: {
      offered: sum(lat, 'offered'),
      completed,
      achievedPerS: rate(completed, elapsedMs),
      p50: round(percentile(sorted, 50)),
      p99: round(percentile(sorted, 99)),
      p999: round(percentile(sorted, 99.9)),
      max: round(sorted.length ? sorted[sorted.length - 1]! : 0),
      errors: sum(lat, 'errors'),
      drops: sum(lat, 'drops'),
      unfinished: sum(lat, 'unfinished'),
      maxFireLagMs: Math.max(...lat.map((m) => num(m, 'max_fire_lag_ms'))),
      error: firstError(lat),
    },
    rssMb: mem.hwm,
    rssEndMb: mem.rss,
    stats: { throughput: tpStats, latency: latStats },
    rssStages: { ready: memReady, connected: memConnected, throughput: memThroughput, latency: mem },
    acked,
    sent,
    stopMs,
    dataDir,
  };
}

/** access_granted rows in the stopped gateway's database, and how many distinct device event ids. */
async function storedEvents(dataDir: string): Promise<{ stored: number; distinct: number }> {
  const db = await new Promise<sqlite3.Database>((res, rej) => {
    const d = new sqlite3.Database(join(dataDir, DB_NAME), sqlite3.OPEN_READWRITE, (e) => (e ? rej(e) : res(d)));
  });
  try {
    const row = await new Promise<{ n: number; d: number }>((res, rej) =>
      db.get("SELECT COUNT(*) AS n, COUNT(DISTINCT device_id || '/' || dedupe_key) AS d FROM events WHERE kind = 'access_granted'", (e, r) =>
        e ? rej(e) : res(r as { n: number; d: number }),
      ),
    );
    return { stored: row.n, distinct: row.d };
  } finally {
    await new Promise<void>((res) => db.close(() => res()));
  }
}

// ---------------------------------------------------------------- main

const commits = (c: Stats['commit']) =>
  c
    ? `${fmt(c.commits)} commits, ${c.jobs_per_commit} ev/commit, ${c.commit_ms_avg} ms avg, ${c.commit_ms_max} max${c.failed ? `, ${c.failed} FAILED` : ''}`
    : '?';
const stages = (r: RunResult) =>
  `listening ${mb(r.rssStages.ready)}, connected ${mb(r.rssStages.connected)}, after throughput ${mb(r.rssStages.throughput)}, after latency ${mb(r.rssStages.latency)}`;
const mb = (m: Mem) => `${Math.round(m.anon)}+${Math.round(m.file)} (peak ${Math.round(m.hwm)})`;

export async function main(args: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const progress = (msg: string) => {
    if (!opts.json) process.stdout.write(`… ${msg}\n`);
    else process.stderr.write(`… ${msg}\n`);
  };
  opts.build = ensureBuild(root);
  if (opts.productionFlags) ({ flags: opts.prodFlags, env: opts.prodEnv } = productionStart(root));
  const children: Child[] = [];
  const tmp = tempDir('shouwang-bench-ingest-');
  const onSignal = () => {
    for (const c of children) c.kill();
    tmp.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const gw = await runAgainst('gateway', opts, children, progress, tmp.dir);
    progress('gateway: checking the database');
    const db = await storedEvents(tmp.dir);
    const bare = await runAgainst('bare', opts, children, progress, null);

    const N = opts.devices;
    const ratio = bare.throughput.perS > 0 ? round(gw.throughput.perS / bare.throughput.perS, 3) : 0;
    const latencyClean = gw.latency.unfinished === 0 && gw.latency.errors === 0 && gw.latency.completed > 0;
    const stored_ok = db.stored >= gw.acked && db.distinct === db.stored;
    const connected_ok = gw.connected === N && bare.connected === N;
    const pass = {
      events_per_s: gw.throughput.perS >= TARGETS.events_per_s,
      ratio: ratio >= TARGETS.ratio,
      puback_p99_ms: gw.latency.p99 <= TARGETS.puback_p99_ms && latencyClean,
      rss_mb: gw.rssMb <= TARGETS.rss_mb,
      stored_events: stored_ok,
      connections: connected_ok,
    };
    const ok = (b: boolean) => (b ? 'PASS' : 'MISS');
    const issues = (r: { errors: number; drops: number; unfinished: number; error: string | null }) =>
      `${r.errors} errors, ${r.drops} drops, ${r.unfinished} unfinished${r.error ? ` (${r.error})` : ''}`;
    const rows: [string, string, string][] = [
      ['metric', 'value', 'notes'],
      [
        'devices',
        fmt(N),
        `${LOADERS} load processes; connected gateway ${gw.connected}, bare ${bare.connected}; connect ${fmt(gw.connectMs)} ms / ${fmt(bare.connectMs)} ms`,
      ],
      [
        'events_per_s',
        fmt(gw.throughput.perS),
        `${ok(pass.events_per_s)} ≥ ${fmt(TARGETS.events_per_s)}; closed loop ${opts.inflight}/device in flight, ${fmt(gw.throughput.acked)} PUBACKs in ${round(gw.throughput.windowMs / 1000)} s; ${issues(gw.throughput)}`,
      ],
      ['baseline_events_per_s', fmt(bare.throughput.perS), `bare aedes, same load; ${issues(bare.throughput)}`],
      ['ratio', String(ratio), `${ok(pass.ratio)} ≥ ${TARGETS.ratio}; gateway / bare aedes`],
      [
        'cpu_pct',
        String(gw.cpuPct),
        `gateway process over the throughput phase (100 = one core of ${cpus().length}), main thread ${gw.mainCpuPct}; load generators ${gw.loadCpuPct}; against bare aedes: aedes ${bare.cpuPct} (main thread ${bare.mainCpuPct}), load ${bare.loadCpuPct}`,
      ],
      [
        'cpu_us_per_event',
        String(gw.usPerEvent.broker),
        `CPU µs per acked event in the throughput phase: gateway ${gw.usPerEvent.broker} (main thread ${gw.usPerEvent.main}, other threads ${round(gw.usPerEvent.broker - gw.usPerEvent.main, 1)}: SQLite's pool, V8's GC helpers), its load ${gw.usPerEvent.load}; bare aedes ${bare.usPerEvent.broker} (main ${bare.usPerEvent.main}), its load ${bare.usPerEvent.load}`,
      ],
      [
        'other_cpu_pct',
        String(gw.otherCpuPct),
        `CPU used by other processes on this box during the gateway throughput phase (${bare.otherCpuPct} during the bare one); load average ${os.loadavg()[0]!.toFixed(2)}; above ~10 the figures are skewed`,
      ],
      ['puback_p50_ms', String(gw.latency.p50), `open loop ${fmt(OFFERED_PER_S)}/s offered for ${opts.seconds} s, ${fmt(gw.latency.offered)} offered`],
      ['puback_p99_ms', String(gw.latency.p99), `${ok(pass.puback_p99_ms)} ≤ ${TARGETS.puback_p99_ms}; p99.9 ${gw.latency.p999}`],
      ['puback_max_ms', String(gw.latency.max), `${issues(gw.latency)}; load generator fired up to ${gw.latency.maxFireLagMs} ms late`],
      ['achieved_events_per_s', fmt(gw.latency.achievedPerS), `${fmt(gw.latency.completed)} PUBACKs`],
      [
        'baseline_puback_p99_ms',
        String(bare.latency.p99),
        `bare aedes: p50 ${bare.latency.p50}, max ${bare.latency.max}, achieved ${fmt(bare.latency.achievedPerS)}/s; ${issues(bare.latency)}`,
      ],
      [
        'event_loop',
        `${gw.stats.throughput.elu ?? '?'} / ${gw.stats.latency.elu ?? '?'}`,
        `gateway event-loop utilization, throughput / latency phase; loop delay p99 ${gw.stats.throughput.loop_delay_p99_ms ?? '?'} / ${gw.stats.latency.loop_delay_p99_ms ?? '?'} ms, max ${gw.stats.throughput.loop_delay_max_ms ?? '?'} / ${gw.stats.latency.loop_delay_max_ms ?? '?'} ms; bare aedes ELU ${bare.stats.throughput.elu ?? '?'} / ${bare.stats.latency.elu ?? '?'}`,
      ],
      [
        'events_per_commit',
        String(gw.stats.throughput.commit?.jobs_per_commit ?? '?'),
        `throughput phase: ${commits(gw.stats.throughput.commit)}; latency phase: ${commits(gw.stats.latency.commit)}`,
      ],
      ['rss_mb', String(gw.rssMb), `${ok(pass.rss_mb)} ≤ ${TARGETS.rss_mb}; gateway VmHWM (peak); bare aedes peak ${bare.rssMb}`],
      [
        'heap_peak_mb',
        String(gw.stats.throughput.peak_mb?.heap_total ?? '?'),
        `gateway V8 heap (total) peak in the throughput phase, sampled every 100 ms: used ${gw.stats.throughput.peak_mb?.heap_used ?? '?'}, external ${gw.stats.throughput.peak_mb?.external ?? '?'}, rss ${gw.stats.throughput.peak_mb?.rss ?? '?'}, live after GC ${gw.stats.throughput.live_heap_mb ?? '?'}; latency phase: heap ${gw.stats.latency.peak_mb?.heap_total ?? '?'}, rss ${gw.stats.latency.peak_mb?.rss ?? '?'}, live after GC ${gw.stats.latency.live_heap_mb ?? '?'}`,
      ],
      ['rss_end_mb', String(gw.rssEndMb), `gateway VmRSS anon+file: ${stages(gw)}; bare aedes: ${stages(bare)}`],
      ['acked_events', fmt(gw.acked), `PUBACKs counted by the load generators (warmup + throughput + latency), ${fmt(gw.sent)} sent`],
      [
        'stored_events',
        fmt(db.stored),
        stored_ok
          ? `OK: stored access_granted ≥ acked, all ${fmt(db.distinct)} distinct`
          : `FAIL: ${db.stored < gw.acked ? `${fmt(gw.acked - db.stored)} acknowledged events are not in the database` : ''}${db.distinct !== db.stored ? ` ${fmt(db.stored - db.distinct)} duplicates` : ''}`,
      ],
      ['gateway_start_ms', fmt(gw.startMs), `process start to listening; stop ${gw.stopMs ?? '?'} ms`],
      [
        'gateway_runs',
        'dist/ (node)',
        `${opts.build.state}: ${opts.build.why}${opts.build.ms ? `, ${round(opts.build.ms / 1000, 1)} s` : ''}; environment and node flags (both brokers): ${[...Object.entries(opts.prodEnv).map(([k, v]) => `${k}=${v}`), ...opts.prodFlags].join(' ') || 'none'} (${opts.productionFlags ? 'those of npm run serve' : '--no-production-flags'}) + --expose-gc${opts.gatewayFlags.length ? `; gateway only: ${opts.gatewayFlags.join(' ')}` : ''}`,
      ],
    ];
    if (!connected_ok) rows.push(['connections', 'FAIL', `expected ${N} each; ${gw.connectError ?? bare.connectError ?? ''}`]);
    process.stdout.write('\n' + table(rows));
    if (opts.json) {
      const result = {
        bench: 'ingest',
        node: process.version,
        cpus: cpus().length,
        seconds: opts.seconds,
        quick: opts.quick,
        devices: N,
        inflight_per_device: opts.inflight,
        gateway_flags: opts.gatewayFlags,
        production_flags: opts.prodFlags,
        production_env: opts.prodEnv,
        build: opts.build.state,
        offered_events_per_s: OFFERED_PER_S,
        events_per_s: gw.throughput.perS,
        baseline_events_per_s: bare.throughput.perS,
        ratio,
        puback_p50_ms: gw.latency.p50,
        puback_p99_ms: gw.latency.p99,
        puback_p999_ms: gw.latency.p999,
        puback_max_ms: gw.latency.max,
        achieved_events_per_s: gw.latency.achievedPerS,
        baseline_puback_p50_ms: bare.latency.p50,
        baseline_puback_p99_ms: bare.latency.p99,
        rss_mb: gw.rssMb,
        rss_end_mb: gw.rssEndMb,
        baseline_rss_mb: bare.rssMb,
        rss_stages_mb: gw.rssStages,
        gateway_stats: gw.stats,
        baseline_stats: bare.stats,
        baseline_rss_stages_mb: bare.rssStages,
        cpu_pct: gw.cpuPct,
        baseline_cpu_pct: bare.cpuPct,
        load_cpu_pct: gw.loadCpuPct,
        main_cpu_pct: { gateway: gw.mainCpuPct, baseline: bare.mainCpuPct },
        cpu_us_per_event: { gateway: gw.usPerEvent, baseline: bare.usPerEvent },
        other_cpu_pct: { gateway_run: gw.otherCpuPct, baseline_run: bare.otherCpuPct },
        baseline_load_cpu_pct: bare.loadCpuPct,
        acked_events: gw.acked,
        sent_events: gw.sent,
        stored_events: db.stored,
        errors: {
          throughput: gw.throughput.errors,
          latency: gw.latency.errors,
          drops: gw.throughput.drops + gw.latency.drops,
          unfinished: gw.throughput.unfinished + gw.latency.unfinished,
        },
        connected: { gateway: gw.connected, bare: bare.connected },
        targets: TARGETS,
        pass,
      };
      process.stdout.write(JSON.stringify(result) + '\n');
    }
    return stored_ok && connected_ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`ingest benchmark failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await Promise.all(children.map((c) => c.stop(3000)));
    try {
      tmp.cleanup();
    } catch {
      /* best effort */
    }
  }
}
