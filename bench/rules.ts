/**
 * Rules benchmark: how many events per second the detection engine evaluates
 * on one core, with 200 rules over a recorded-like event mix.
 *
 *   npm run bench -- rules [--json] [--quick] [--rules N] [--events N]
 *
 * What is measured is the evaluation (engine.process per event: kind index,
 * filters, arming and schedules, dedupe, correlations, decisions), timed one
 * event at a time. Alarm writes go to an in-memory sink (the store has its own
 * benchmark); the fake clock is moved to each event's time outside the timed
 * part (a heap-based fake clock, so the harness adds no garbage). The baseline, in the same run, is the engine with no rules on the same
 * stream (the per-event cost every event pays). A warm-up run comes first.
 *
 * Prints a table; with --json the last stdout line is one JSON object.
 */
import { cpus } from 'node:os';
import { pino } from 'pino';
import type { SiteConfig } from '../config/schema.ts';
import { effectiveRules } from '../config/schema/rules.ts';
import type { StoredEvent } from '../gateway/core/events.ts';
import { AlarmBook } from '../gateway/detect/book.ts';
import { Engine } from '../gateway/detect/engine.ts';
import { Maintenance } from '../gateway/detect/maintenance.ts';
import { Registry } from '../gateway/detect/registry.ts';
import { Schedules } from '../gateway/detect/schedule.ts';
import { fmt, percentile, rate, round, table } from './_report.ts';
import { benchSite, eventMix } from './_rules-site.ts';
import { BenchClock, MemoryAlarms } from './_rules-sink.ts';

const TARGET_EVENTS_PER_S = 50_000;
const SWEEP_MS = 30_000;
const log = pino({ level: 'silent' });

interface Options {
  json: boolean;
  quick: boolean;
  rules: number;
  events: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = { json: false, quick: false, rules: 200, events: 200_000 };
  let eventsSet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): number => {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} needs a positive whole number`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--rules') o.rules = value();
    else if (a === '--events') {
      o.events = value();
      eventsSet = true;
    } else throw new Error(`unknown flag ${a} (flags: --json --quick --rules N --events N)`);
  }
  if (o.quick && !eventsSet) o.events = 30_000;
  return o;
}

interface RunResult {
  n: number;
  evalMs: number;
  wallMs: number;
  perEventNs: Float64Array;
  opened: number;
  evidenceWrites: number;
  otherWrites: number;
  ruleErrors: number;
  rules: number;
}

async function run(config: SiteConfig, events: readonly StoredEvent[]): Promise<RunResult> {
  const clock = new BenchClock(events[0]!.receivedAt);
  const sink = new MemoryAlarms(clock);
  const registry = new Registry(config.devices, config.grids);
  const book = new AlarmBook({
    alarms: sink,
    clock,
    log,
    deadlines: config.rules.deadlines,
    evidenceFlushMs: 2_000,
    hooks: { opened: () => {}, raised: () => {}, closedWithPending: () => {} },
  });
  const engine = new Engine({
    rules: effectiveRules(config.rules).map((r) => r.rule),
    registry,
    schedules: new Schedules(config.rules.schedules, config.site.timezone),
    clock,
    log,
    book,
    maintenance: new Maintenance(registry, clock, log, null),
    stuckMinutes: config.rules.stuckMinutes,
  });
  const perEventNs = new Float64Array(events.length);
  let evalNs = 0;
  let nextSweep = clock.now() + SWEEP_MS;
  const wall0 = performance.now();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    clock.advanceTo(e.receivedAt); // fires evidence flushes, restores and holds, untimed
    if (clock.now() >= nextSweep) {
      engine.sweep();
      nextSweep += SWEEP_MS;
    }
    const t0 = process.hrtime.bigint();
    engine.process(e);
    const ns = Number(process.hrtime.bigint() - t0);
    perEventNs[i] = ns;
    evalNs += ns;
    if ((i & 1023) === 1023) await book.idle();
  }
  book.flushAll();
  await book.idle();
  const wallMs = performance.now() - wall0;
  book.stop();
  return {
    n: events.length,
    evalMs: evalNs / 1e6,
    wallMs,
    perEventNs,
    opened: sink.counts.open,
    evidenceWrites: sink.counts.evidence,
    otherWrites: sink.counts.other,
    ruleErrors: engine.stats.ruleErrors,
    rules: engine.rules.length,
  };
}

export async function main(args: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const progress = (msg: string) => (opts.json ? process.stderr : process.stdout).write(`… ${msg}\n`);
  const config = benchSite(opts.rules);
  const bare: SiteConfig = { ...config, rules: { ...config.rules, defaults: false, list: [] } };
  progress(`building ${fmt(opts.events)} events`);
  const events = eventMix(config, opts.events);
  const kinds = new Map<string, number>();
  for (const e of events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  progress('warm-up');
  await run(config, events.slice(0, Math.min(events.length, 20_000)));
  await run(bare, events.slice(0, Math.min(events.length, 20_000)));
  progress(`baseline: no rules, ${fmt(events.length)} events`);
  const base = await run(bare, events);
  progress(`${opts.rules} rules, ${fmt(events.length)} events`);
  const r = await run(config, events);

  const sorted = Float64Array.from(r.perEventNs).sort();
  const us = (p: number) => round(percentile(sorted, p) / 1000, 2);
  const eventsPerS = rate(r.n, r.evalMs);
  const baselinePerS = rate(base.n, base.evalMs);
  const wallPerS = rate(r.n, r.wallMs);
  const spanS = (events[events.length - 1]!.receivedAt - events[0]!.receivedAt) / 1000;
  const met = eventsPerS >= TARGET_EVENTS_PER_S;
  process.stdout.write(
    '\n' +
      table([
        ['metric', 'value', 'notes'],
        [
          'rules',
          String(r.rules),
          `${effectiveRules(config.rules).filter((x) => x.source === 'builtin').length} built-in + the site's own (event, pair, group)`,
        ],
        ['events', fmt(r.n), `${round(spanS / 60, 1)} min of a stormy evening (21:30 local, past the 22:00 schedule), ${kinds.size} kinds`],
        ['events_per_s', fmt(eventsPerS), `${met ? 'PASS' : 'MISS'} ≥ ${fmt(TARGET_EVENTS_PER_S)}; evaluation only, one core, ${round(r.evalMs)} ms`],
        ['p50_us', String(us(50)), 'per event'],
        ['p99_us', String(us(99)), 'per event'],
        ['p999_us', String(us(99.9)), ''],
        ['max_us', String(round(sorted[sorted.length - 1]! / 1000, 1)), 'includes GC pauses'],
        ['baseline_events_per_s', fmt(baselinePerS), 'same stream, no rules (lookup and facts only)'],
        ['wall_events_per_s', fmt(wallPerS), 'with the fake clock, sweeps and the in-memory alarm sink'],
        ['alarms_opened', fmt(r.opened), `${fmt(r.evidenceWrites)} evidence writes, ${fmt(r.otherWrites)} other alarm writes`],
        ['rule_errors', String(r.ruleErrors), ''],
      ]),
  );
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({
        bench: 'rules',
        node: process.version,
        cpus: cpus().length,
        quick: opts.quick,
        rules: r.rules,
        events: r.n,
        events_per_s: eventsPerS,
        p50_us: us(50),
        p99_us: us(99),
        p999_us: us(99.9),
        max_us: round(sorted[sorted.length - 1]! / 1000, 1),
        baseline_events_per_s: baselinePerS,
        ratio: baselinePerS > 0 ? round(eventsPerS / baselinePerS, 3) : 0,
        wall_events_per_s: wallPerS,
        alarms_opened: r.opened,
        evidence_writes: r.evidenceWrites,
        other_alarm_writes: r.otherWrites,
        rule_errors: r.ruleErrors,
        kinds: Object.fromEntries(kinds),
        target_events_per_s: TARGET_EVENTS_PER_S,
        pass: { events_per_s: met },
      }) + '\n',
    );
  }
  return r.ruleErrors > 0 ? 1 : 0;
}
