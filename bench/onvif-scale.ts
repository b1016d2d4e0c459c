/**
 * ONVIF scale benchmark: can the gateway hold 300 camera subscriptions, each camera raising motion
 * (start and stop) every 10 s, cheaply and with a short emit-to-stored latency?
 *
 *   npm run bench -- onvif-scale [--json] [--quick] [--cameras N] [--seconds S] [--period 10s]
 *
 * Processes, all on 127.0.0.1, all stopped at the end (temp folder removed):
 *   - the camera simulator (`npm run sim -- cameras`, its own process): N cameras on free ports, each
 *     raising motion every period and clearing it a second later;
 *   - the gateway under test (`bench/_onvif-gateway.ts`): the whole App with the N cameras, a real
 *     SQLite store on a temp folder.
 * Phases: a baseline (the same gateway with no cameras, idle: its CPU and RSS); then with the cameras:
 * wait until all N subscriptions work (bounded), a warmup, then the measured window (60 s; 15 s with
 * --quick). cpu_pct is the gateway process's CPU over the window (100 = one core), rss_mb its peak RSS
 * (VmHWM), event_p99_ms the 99th percentile from the camera's event time (the simulator's emit, same
 * host clock) to the commit of the stored event. subscriptions_active is the lowest count seen during
 * the window (polled every second). The table also says how busy the rest of the machine was.
 * Both gateway processes run the compiled build (`node <production flags> dist/bench/_onvif-gateway.js`,
 * built first when dist/ is missing or stale), with the node flags of the production start (`npm run serve`);
 * --no-production-flags leaves those out, --gateway-flags adds more (e.g. heap sizing, for diagnosis).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../tests/helpers/store.ts';
import { boxJiffies, Child, cpuSeconds, memMb, type Msg } from './_proc.ts';
import { noPeaks, type MemoryPeaks } from './_memory-peaks.ts';
import { ensureBuild, productionStart } from './_production.ts';
import { fmt, percentile, round, table } from './_report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const TARGETS = { cpu_pct: 15, rss_mb: 150, event_p99_ms: 250 } as const;
const SUBSCRIBE_TIMEOUT_MS = 180_000;
const GRID = '320602001001-01';

interface Options {
  json: boolean;
  quick: boolean;
  cameras: number;
  seconds: number;
  periodS: number;
  /** Extra node flags for the gateway processes (diagnosis, e.g. "--max-semi-space-size=4"). */
  gatewayFlags: string[];
  /** Start the gateway with the production start's node flags (default) or without them. */
  productionFlags: boolean;
}

function parseArgs(args: string[]): Options {
  const o: Options = { json: false, quick: false, cameras: 300, seconds: 60, periodS: 10, gatewayFlags: [], productionFlags: true };
  let secondsSet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const num = (min: number, max: number) => {
      const v = Number(String(args[++i] ?? '').replace(/s$/, ''));
      if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${a} needs a number from ${min} to ${max}`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--cameras') o.cameras = Math.floor(num(1, 2000));
    else if (a === '--seconds') {
      o.seconds = num(5, 600);
      secondsSet = true;
    } else if (a === '--period') o.periodS = num(2, 600);
    else if (a === '--gateway-flags') {
      const f = args[++i];
      if (!f || !f.trim().startsWith('--')) throw new Error('--gateway-flags needs node flags, e.g. "--max-semi-space-size=4"');
      o.gatewayFlags = f.trim().split(/\s+/);
    } else if (a === '--no-production-flags') o.productionFlags = false;
    else throw new Error(`unknown flag ${a} (flags: --json --quick --cameras N --seconds S --period 10s --gateway-flags "FLAGS" --no-production-flags)`);
  }
  if (o.quick && !secondsSet) o.seconds = 15;
  return o;
}

function site(ports: { id: string; port: number }[]): object {
  return {
    demo: true,
    site: { boxId: 'sw-320602-013', name: '摄像机压测小区', divisionCode: '320602001001', kind: 'urban_estate' },
    grids: [{ code: GRID, name: '一网格' }],
    devices: ports.map(({ id, port }, i) => ({
      id,
      kind: 'onvif_camera',
      name: `监控点${i + 1}`,
      grid: GRID,
      place: { point: i % 3 === 0 ? 'gate' : i % 3 === 1 ? 'perimeter' : 'public_area' },
      host: '127.0.0.1',
      port,
      username: 'admin',
      password: 'admin-demo',
    })),
    panel: { host: '127.0.0.1', port: 8080 },
    broker: { host: '127.0.0.1', port: 1883 },
  };
}

function yamlSite(n: number): string {
  const lines = ['demo: true', `site: { boxId: sw-320602-013, name: 摄像机压测小区, divisionCode: "320602001001", kind: urban_estate }`];
  lines.push(`grids: [{ code: "${GRID}", name: 一网格 }]`, 'panel: { host: 127.0.0.1 }', 'broker: { host: 127.0.0.1 }', 'devices:');
  for (let i = 0; i < n; i++)
    lines.push(
      `  - { id: ${camId(i)}, kind: onvif_camera, name: 监控点${i + 1}, grid: "${GRID}", place: { point: gate }, host: 127.0.0.1, port: ${20000 + i}, username: admin, password: admin-demo }`,
    );
  return lines.join('\n') + '\n';
}

/** The larger of each memory peak (MB) the gateway reported. */
const maxPeaks = (a: MemoryPeaks, s: Msg): MemoryPeaks => {
  const p = (s.peak_mb ?? {}) as Partial<MemoryPeaks>;
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof MemoryPeaks)[]) out[k] = Math.max(out[k], p[k] ?? 0);
  return out;
};
const peakText = (p: MemoryPeaks) => `rss ${p.rss}, heap total ${p.heap_total} (used ${p.heap_used}), external ${p.external}`;

const camId = (i: number) => `cam-${String(i + 1).padStart(4, '0')}`;

const stats = async (gw: Child): Promise<Msg> => {
  gw.send('stats');
  return gw.wait((m) => m.stats === true, 15_000, 'stats');
};

const tsx = (script: string, args: string[], flags: string[] = []) => [process.execPath, [...flags, '--import', 'tsx', join(root, script), ...args]] as const;

/** The gateway as the box runs it: compiled JavaScript from dist/ under plain node. */
async function gateway(name: string, dataDir: string, siteFile: string, flags: string[], env: Record<string, string>): Promise<Child> {
  const gw = new Child(name, process.execPath, [...flags, join(root, 'dist/bench/_onvif-gateway.js'), '--data', dataDir, '--site', siteFile], root, env);
  await gw.wait((m) => m.ready === true, 60_000, 'ready');
  return gw;
}

export async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  const progress = (s: string) => process.stderr.write(`onvif-scale: ${s}\n`);
  const build = ensureBuild(root);
  const prod = o.productionFlags ? productionStart(root) : { env: {}, flags: [] };
  const flags = [...prod.flags, ...o.gatewayFlags];
  const t = tempDir('shouwang-bench-onvif-');
  const children: Child[] = [];
  try {
    // ---- baseline: the gateway with no cameras, idle
    progress('baseline: the gateway with no cameras');
    const emptySite = join(t.dir, 'empty.json');
    writeFileSync(emptySite, JSON.stringify(site([])));
    mkdirSync(join(t.dir, 'base'));
    const base = await gateway('baseline', join(t.dir, 'base'), emptySite, flags, prod.env);
    children.push(base);
    await new Promise((r) => setTimeout(r, 1000));
    const bc0 = cpuSeconds(base.pid);
    const bt0 = performance.now();
    await new Promise((r) => setTimeout(r, o.quick ? 3000 : 5000));
    const baseline = { cpu_pct: round(((cpuSeconds(base.pid) - bc0) / ((performance.now() - bt0) / 1000)) * 100, 1), rss_mb: memMb(base.pid).hwm };
    await base.stop(10_000);

    // ---- cameras in their own process
    progress(`${o.cameras} simulated cameras, motion every ${o.periodS} s`);
    const camSite = join(t.dir, 'cameras.yaml');
    writeFileSync(camSite, yamlSite(o.cameras));
    const [simCmd, simArgs] = tsx('simulators/run.ts', [
      'cameras',
      '--config',
      camSite,
      '--any-port',
      '--discovery-port',
      'off',
      '--traffic',
      `motion:${o.periodS}s`,
      '--json',
    ]);
    const sim = new Child('cameras', simCmd, [...simArgs], root);
    children.push(sim);
    const ready = await sim.wait((m) => m.ready === true, 120_000, 'cameras ready');
    const ports = (ready.cameras as { id: string; port: number }[]).map((c) => ({ id: c.id, port: c.port }));

    // ---- the gateway with the cameras
    const gwSite = join(t.dir, 'site.json');
    writeFileSync(gwSite, JSON.stringify(site(ports)));
    mkdirSync(join(t.dir, 'gw'));
    const s0 = performance.now();
    const gw = await gateway('gateway', join(t.dir, 'gw'), gwSite, flags, prod.env);
    children.push(gw);
    progress('waiting until every camera is subscribed');
    let subscribed = 0;
    let startPeaks = noPeaks();
    while (performance.now() - s0 < SUBSCRIBE_TIMEOUT_MS) {
      const s = await stats(gw);
      startPeaks = maxPeaks(startPeaks, s);
      subscribed = s.subscriptions_active as number;
      if (subscribed >= o.cameras) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const subscribeS = round((performance.now() - s0) / 1000, 1);
    const memSubscribed = memMb(gw.pid);
    if (subscribed < o.cameras) progress(`only ${subscribed}/${o.cameras} subscribed after ${SUBSCRIBE_TIMEOUT_MS / 1000} s; measuring anyway`);
    const warm = o.quick ? 3 : Math.max(5, o.periodS);
    progress(`warmup ${warm} s`);
    await new Promise((r) => setTimeout(r, warm * 1000));
    startPeaks = maxPeaks(startPeaks, await stats(gw));

    progress(`measuring ${o.seconds} s`);
    const cpu0 = cpuSeconds(gw.pid);
    const simCpu0 = cpuSeconds(sim.pid);
    const box0 = boxJiffies();
    const self0 = process.cpuUsage();
    const w0 = performance.now();
    let minActive = Infinity;
    let stored = 0;
    let latencies: number[] = [];
    let elu = 0;
    let samples = 0;
    let heapMb = 0;
    let windowPeaks = noPeaks();
    while (performance.now() - w0 < o.seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      const s = await stats(gw);
      minActive = Math.min(minActive, s.subscriptions_active as number);
      stored += s.stored as number;
      latencies = latencies.concat(s.latencies as number[]);
      elu += s.elu as number;
      heapMb = Math.max(heapMb, s.heap_used_mb as number);
      windowPeaks = maxPeaks(windowPeaks, s);
      samples++;
    }
    const windowS = (performance.now() - w0) / 1000;
    const cpuPct = round(((cpuSeconds(gw.pid) - cpu0) / windowS) * 100, 1);
    const simCpuPct = round(((cpuSeconds(sim.pid) - simCpu0) / windowS) * 100, 1);
    const box1 = boxJiffies();
    const self = process.cpuUsage(self0);
    const boxBusy = ((box1.busy - box0.busy) / Math.max(1, box1.total - box0.total)) * cpus().length * 100;
    const otherCpuPct = round(Math.max(0, boxBusy - cpuPct - simCpuPct - ((self.user + self.system) / 1e6 / windowS) * 100), 1);
    const mem = memMb(gw.pid);
    const sorted = Float64Array.from(latencies).sort();

    progress('stopping');
    gw.proc.kill('SIGTERM');
    const stopped = await gw.wait((m) => m.stopped === true, 30_000, 'stop').catch(() => null);
    await gw.stop(5000);
    await sim.stop(10_000);

    const result = {
      cameras: o.cameras,
      subscriptions_active: minActive === Infinity ? subscribed : minActive,
      cpu_pct: cpuPct,
      rss_mb: mem.hwm,
      event_p99_ms: round(percentile(sorted, 99), 1),
      event_p50_ms: round(percentile(sorted, 50), 1),
      event_max_ms: round(sorted.length ? sorted[sorted.length - 1]! : 0, 1),
      events_stored: stored,
      events_per_s: round(stored / windowS, 1),
      expected_events_per_s: round((2 * o.cameras) / o.periodS, 1),
      subscribe_all_s: subscribeS,
      window_s: round(windowS, 1),
      elu: round(elu / Math.max(1, samples), 3),
      heap_used_mb: heapMb,
      rss_subscribed_mb: memSubscribed.hwm,
      start_peak_mb: startPeaks,
      window_peak_mb: windowPeaks,
      baseline_cpu_pct: baseline.cpu_pct,
      baseline_rss_mb: baseline.rss_mb,
      sim_cpu_pct: simCpuPct,
      other_cpu_pct: otherCpuPct,
      stop_ms: stopped ? (stopped.stop_ms as number) : null,
      gateway_node_flags: flags,
      gateway_env: prod.env,
      build: build.state,
    };
    const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
    const out = table([
      ['figure', 'value', 'target'],
      ['cameras', fmt(result.cameras), ''],
      ['subscriptions_active (lowest in window)', fmt(result.subscriptions_active), `all ${o.cameras}: ${verdict(result.subscriptions_active >= o.cameras)}`],
      ['cpu_pct (gateway, 100 = one core)', String(result.cpu_pct), `≤ ${TARGETS.cpu_pct}: ${verdict(result.cpu_pct <= TARGETS.cpu_pct)}`],
      ['rss_mb (gateway peak)', String(result.rss_mb), `≤ ${TARGETS.rss_mb}: ${verdict(result.rss_mb <= TARGETS.rss_mb)}`],
      [
        'event_p99_ms (camera emit → stored)',
        String(result.event_p99_ms),
        `≤ ${TARGETS.event_p99_ms}: ${verdict(result.event_p99_ms <= TARGETS.event_p99_ms)}`,
      ],
      ['event_p50_ms / max', `${result.event_p50_ms} / ${result.event_max_ms}`, ''],
      ['events stored per s', `${result.events_per_s}`, `${result.expected_events_per_s} raised`],
      ['all subscribed after (s)', String(result.subscribe_all_s), ''],
      ['event-loop utilization', String(result.elu), ''],
      ['JS heap used (peak of 1 s samples, MB)', String(result.heap_used_mb), 'the rest of RSS: node itself, code, buffers, GC slack'],
      ['rss_mb peak once all subscribed', String(result.rss_subscribed_mb), `start + warmup peaks (100 ms samples, MB): ${peakText(startPeaks)}`],
      ['memory peaks in the window (MB)', String(windowPeaks.rss), peakText(windowPeaks)],
      ['baseline: no cameras, idle (cpu_pct / rss_mb)', `${result.baseline_cpu_pct} / ${result.baseline_rss_mb}`, 'same gateway, same run'],
      ['simulator process cpu_pct', String(result.sim_cpu_pct), ''],
      ['rest of the machine cpu_pct', String(result.other_cpu_pct), 'other work skews the figures'],
      ['gateway runs', 'dist/ (node)', `${build.state}: ${build.why}${build.ms ? `, ${round(build.ms / 1000, 1)} s` : ''}`],
      [
        'gateway environment and node flags',
        [...Object.entries(prod.env).map(([k, v]) => `${k}=${v}`), ...flags].join(' ') || 'none',
        `${o.productionFlags ? 'those of npm run serve' : '--no-production-flags'}${o.gatewayFlags.length ? ` + --gateway-flags ${o.gatewayFlags.join(' ')}` : ''}`,
      ],
    ]);
    process.stdout.write(`\nONVIF scale: ${o.cameras} cameras, motion start/stop every ${o.periodS} s, ${round(windowS, 0)} s window\n\n${out}`);
    if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
    return result.subscriptions_active >= o.cameras && stored > 0 ? 0 : 1;
  } finally {
    for (const c of children.reverse()) await c.stop(5000).catch(() => {});
    t.cleanup();
  }
}
