/**
 * Phases of the end-to-end benchmark, run the same way against each system under test (ours: the
 * gateway pushing to the county simulator; the baseline: mosquitto bridged to mosquitto). A system is
 * its load processes (`_ingest-load.ts`, devices publishing QoS 1 with `ts`), its receiving end
 * (`_e2e-sink.ts`) and the process standing for the box (the gateway, or the box's mosquitto).
 *
 * Not a benchmark of its own (files starting with `_` are helpers).
 */
import { cpus } from 'node:os';
import { boxJiffies, cpuSeconds, type Child, type Msg } from './_proc.ts';
import { rate, round } from './_report.ts';

/** Slack on top of a phase's own seconds (the load generators drain PUBACKs for up to 15 s). */
export const PHASE_SLACK_MS = 30_000;
const POLL_MS = 250;

export interface System {
  name: 'ours' | 'baseline';
  /** The process standing for the box: the gateway, or the box's mosquitto. */
  boxPid: () => number;
  loads: Child[];
  sink: Child;
}

export const num = (m: Msg, k: string): number => (typeof m[k] === 'number' ? (m[k] as number) : 0);
export const sum = (ms: Msg[], k: string): number => ms.reduce((s, m) => s + num(m, k), 0);
export const firstError = (ms: Msg[]): string | null => ms.map((m) => m.error).find((e): e is string => typeof e === 'string') ?? null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Send one command and wait (bounded) for its one-line answer. */
export async function ask(c: Child, cmd: object, what: string, ms = 15_000): Promise<Msg> {
  c.send(cmd);
  const m = await c.next(ms, what);
  if (typeof m.error === 'string' && Object.keys(m).length === 1) throw new Error(`${c.name}: ${what}: ${m.error}`);
  return m;
}

/** Every load's answer to the command it was sent (bounded). */
export const answers = (loads: Child[], what: string, ms: number) => Promise.all(loads.map((l) => l.next(ms, what)));

export interface Drain {
  count: number;
  expected: number;
  complete: boolean;
  waitedMs: number;
  /** Why the wait ended: all arrived, the sink went quiet (for quietMs), or the bound was reached. */
  ended: 'all' | 'quiet' | 'bound';
  quietMs: number;
}

/**
 * Wait until the sink holds `expected` receipts with a device time from `from` on, or has been quiet
 * for `quietMs` (after something arrived later than `after`, when given), or `boundMs` passed.
 */
export async function drained(sys: System, from: number, expected: number, o: { quietMs: number; boundMs: number; after?: number }): Promise<Drain> {
  const t0 = Date.now();
  for (;;) {
    const m = await ask(sys.sink, { cmd: 'count', from }, 'count');
    const count = num(m, 'count');
    const last = num(m, 'last_arrival');
    const waitedMs = Date.now() - t0;
    if (count >= expected) return { count, expected, complete: true, waitedMs, ended: 'all', quietMs: o.quietMs };
    const quiet = num(m, 'now') - last >= o.quietMs && (o.after === undefined || last > o.after);
    if (quiet) return { count, expected, complete: false, waitedMs, ended: 'quiet', quietMs: o.quietMs };
    if (waitedMs >= o.boundMs) return { count, expected, complete: false, waitedMs, ended: 'bound', quietMs: o.quietMs };
    await sleep(POLL_MS);
  }
}

/** CPU seconds of some processes; a process already gone counts 0. */
function cpuOf(pids: number[]): number {
  let s = 0;
  for (const p of pids) {
    try {
      s += cpuSeconds(p);
    } catch {
      /* gone */
    }
  }
  return s;
}

/** CPU use of the box process, and of everything on the machine that is not this benchmark, over a phase. */
class CpuWindow {
  private readonly box0: number;
  private readonly ours0: number;
  private readonly all0 = boxJiffies();
  private readonly self0 = process.cpuUsage();
  private readonly t0 = performance.now();

  constructor(
    private readonly boxPid: number,
    private readonly ourPids: number[],
  ) {
    this.box0 = cpuOf([boxPid]);
    this.ours0 = cpuOf(ourPids);
  }

  end(): { boxPct: number; otherPct: number } {
    const s = (performance.now() - this.t0) / 1000;
    const all = boxJiffies();
    const self = process.cpuUsage(this.self0);
    const busyPct = ((all.busy - this.all0.busy) / Math.max(1, all.total - this.all0.total)) * cpus().length * 100;
    const oursPct = ((cpuOf(this.ourPids) - this.ours0 + (self.user + self.system) / 1e6) / s) * 100;
    return { boxPct: round(((cpuOf([this.boxPid]) - this.box0) / s) * 100, 1), otherPct: round(Math.max(0, busyPct - oursPct), 1) };
  }
}

export interface Saturation {
  /** End to end: the phase's events that reached the county (or upstream subscriber), per second from the phase's start to the last receipt. */
  perS: number;
  /** Receipts per second within the closed-loop window alone (while the box is also taking events in). */
  windowPerS: number;
  arrivedInWindow: number;
  windowMs: number;
  /** Phase start to the last receipt of its events. */
  deliveredMs: number;
  /** PUBACKs the devices got in the phase, and how many of those events reached the county after the drain. */
  acked: number;
  ackedPerS: number;
  received: number;
  /** acked − received, by counts (events the box took and the county never saw); a lower bound. */
  missing: number;
  drain: Drain;
  boxCpuPct: number;
  otherCpuPct: number;
  errors: number;
  drops: number;
  error: string | null;
}

/**
 * Closed loop: a short warmup, the county drained, then every device keeps `inflight` events in flight
 * for `seconds`. Then the backlog the box built is waited for (bounded). The rate is the phase's events
 * that reached the county over the time from the phase's start to the last of them arriving: a box that
 * acks faster than it forwards is not credited for what it has only buffered, and one that drops what it
 * cannot forward is credited only with what arrived. The rate within the window alone is kept beside it.
 */
export async function saturation(
  sys: System,
  o: { seconds: number; inflight: number; warmupSeconds: number; drainBoundMs: number; quietMs: number; ourPids: number[] },
  progress: (m: string) => void,
): Promise<Saturation> {
  progress(`${sys.name}: warmup, closed loop ${o.warmupSeconds} s`);
  for (const l of sys.loads) l.send({ cmd: 'closed', tag: 'warmup', seconds: o.warmupSeconds, inflight: o.inflight });
  const w = await answers(sys.loads, 'warmup', o.warmupSeconds * 1000 + PHASE_SLACK_MS);
  await drained(sys, Date.now() - 3_600_000, Infinity, { quietMs: 1500, boundMs: o.drainBoundMs });

  progress(`${sys.name}: saturation, closed loop ${o.inflight} in flight per device, ${o.seconds} s`);
  const cpu = new CpuWindow(sys.boxPid(), o.ourPids);
  const t0 = Date.now();
  for (const l of sys.loads) l.send({ cmd: 'closed', tag: 'throughput', seconds: o.seconds, inflight: o.inflight });
  const tp = await answers(sys.loads, 'throughput', o.seconds * 1000 + PHASE_SLACK_MS);
  const { boxPct, otherPct } = cpu.end();
  const windowMs = o.seconds * 1000;
  const arrivedInWindow = num(await ask(sys.sink, { cmd: 'arrivals', from: t0, to: t0 + windowMs }, 'arrivals'), 'arrivals');
  const acked = sum(tp, 'acked_total');
  progress(`${sys.name}: waiting for the county to receive what the box took (up to ${Math.round(o.drainBoundMs / 1000)} s)`);
  const drain = await drained(sys, t0, acked, { quietMs: o.quietMs, boundMs: o.drainBoundMs });
  const q = await ask(sys.sink, { cmd: 'query', from: t0 }, 'saturation receipts');
  const deliveredMs = Math.max(windowMs, num(q, 'last_arrival') - t0);
  return {
    perS: rate(num(q, 'count'), deliveredMs),
    windowPerS: rate(arrivedInWindow, windowMs),
    arrivedInWindow,
    windowMs,
    deliveredMs,
    acked,
    ackedPerS: rate(sum(tp, 'acked_in_window'), windowMs),
    received: drain.count,
    missing: Math.max(0, acked - drain.count),
    drain,
    boxCpuPct: boxPct,
    otherCpuPct: otherPct,
    errors: sum(tp, 'errors') + sum(w, 'errors'),
    drops: sum(tp, 'drops') + sum(w, 'drops'),
    error: firstError([...w, ...tp]),
  };
}

export interface Latency {
  offered: number;
  acked: number;
  achievedPerS: number;
  received: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** The load generators' own worst lag behind their timetable (a busy machine shows here). */
  maxFireLagMs: number;
  drain: Drain;
  boxCpuPct: number;
  errors: number;
  error: string | null;
}

/** Open loop at `perS` events/s for `seconds`; latency = county receipt − device publish time (`ts`), same clock. */
export async function latency(
  sys: System,
  o: { seconds: number; perS: number; drainBoundMs: number; quietMs: number; ourPids: number[] },
  progress: (m: string) => void,
): Promise<Latency> {
  progress(`${sys.name}: latency, open loop ${o.perS.toLocaleString('en-US')} events/s offered, ${o.seconds} s`);
  const n = sys.loads.length;
  const cpu = new CpuWindow(sys.boxPid(), o.ourPids);
  const t0 = Date.now();
  sys.loads.forEach((l, i) => l.send({ cmd: 'open', seconds: o.seconds, rate: o.perS / n, phase: i / n }));
  const lat = await answers(sys.loads, 'latency', o.seconds * 1000 + PHASE_SLACK_MS);
  const acked = sum(lat, 'completed');
  const drain = await drained(sys, t0, acked, { quietMs: o.quietMs, boundMs: o.drainBoundMs });
  const { boxPct } = cpu.end();
  const q = await ask(sys.sink, { cmd: 'query', from: t0 }, 'latency query');
  return {
    offered: sum(lat, 'offered'),
    acked,
    achievedPerS: rate(sum(lat, 'offered'), Math.max(...lat.map((m) => num(m, 'elapsed_ms')))),
    received: num(q, 'count'),
    p50: num(q, 'p50_ms'),
    p99: num(q, 'p99_ms'),
    p999: num(q, 'p999_ms'),
    max: num(q, 'max_ms'),
    maxFireLagMs: Math.max(...lat.map((m) => num(m, 'max_fire_lag_ms'))),
    drain,
    boxCpuPct: boxPct,
    errors: sum(lat, 'errors'),
    error: firstError(lat),
  };
}

/** The acked ids of an outage phase's answers. */
export function ackedIds(ms: Msg[]): string[] {
  return ms.flatMap((m) => (Array.isArray(m.acked_ids) ? (m.acked_ids as string[]) : []));
}

export { sleep };
