/**
 * Storage benchmark: how fast and how durable is the store on this box.
 *
 *   npm run bench -- store [--json] [--rows N] [--seconds S] [--quick]
 *
 * Phases, each on a fresh temp database (all removed at the end):
 *   1 raw        plain sqlite3, same pragmas and events DDL, batched multi-row INSERT (baseline)
 *   2 append     store.events.append, 256 concurrent appenders: mix with outbox, mix without, alarm only
 *   3 latency    open-loop 5,000 events/s offered, latency from the scheduled time to resolve
 *   4 drain      outbox filled with N entries, then next(1000) + ack(ids) until empty
 *
 * Prints a table; with --json the last stdout line is one JSON object.
 * Every phase stops after PHASE_LIMIT_MS and reports what it reached.
 */
import { cpus } from 'node:os';
import sqlite3 from 'sqlite3';
import type { DeviceEvent, EventKind, StoredEvent } from '../gateway/core/events.ts';
import type { NewOutboxEntry } from '../gateway/core/outbox.ts';
import { uuidv7 } from '../gateway/core/ids.ts';
import type { CommitStats } from '../gateway/store/writer.ts';
import { laneOf } from '../gateway/core/events.ts';
import { Store } from '../gateway/store/store.ts';
import { EVENTS_TABLE, eventInsert } from '../gateway/store/events.ts';
import { CATCH_UP, CATCH_UP_ROWS } from '../gateway/store/event-index.ts';
import { MIGRATIONS } from '../gateway/store/migrations.ts';
import { sampleEvent, storeOptions, tempDir } from '../tests/helpers/store.ts';
import { fmt, percentile, rate, round, table } from './_report.ts';

const PHASE_LIMIT_MS = 120_000;
const APPENDERS = 256;
const OFFERED_PER_S = 5_000;
const TARGETS = { append_events_per_s: 50_000, ratio: 0.5, append_p99_ms: 20, drain_events_per_s: 100_000 } as const;

// ---------------------------------------------------------------- options

interface Options {
  json: boolean;
  rows: number;
  seconds: number;
  quick: boolean;
}

function parseArgs(args: string[]): Options {
  const opts: Options = { json: false, rows: 200_000, seconds: 10, quick: false };
  let rowsSet = false;
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
    else if (a === '--rows') {
      opts.rows = Math.floor(value());
      rowsSet = true;
    } else if (a === '--seconds') {
      opts.seconds = value();
      secondsSet = true;
    } else throw new Error(`unknown flag ${a} (flags: --json --rows N --seconds S --quick)`);
  }
  if (opts.quick) {
    if (!rowsSet) opts.rows = 20_000;
    if (!secondsSet) opts.seconds = 3;
  }
  return opts;
}

// ---------------------------------------------------------------- helpers

const KIND_MIX: readonly EventKind[] = ['zone_alarm', ...Array<EventKind>(6).fill('access_granted'), ...Array<EventKind>(3).fill('motion')];
/** ~10% zone_alarm, ~60% access_granted, ~30% motion, interleaved deterministically. */
const mixKind = (i: number): EventKind => KIND_MIX[(i * 7) % KIND_MIX.length]!;
const deviceOf = (i: number) => `dev-${(i % 97).toString().padStart(3, '0')}`;
const gridOf = (i: number) => `grid-${i % 8}`;

const forward = (e: StoredEvent): NewOutboxEntry => ({
  lane: e.lane,
  type: 'event',
  occurredAt: e.receivedAt,
  body: { id: e.id, kind: e.kind, deviceId: e.deviceId },
});

class CommitTally {
  commits = 0;
  jobs = 0;
  rows = 0;
  ms = 0;
  full = 0;
  fullMs = 0;
  failed = 0;
  maxMs = 0;
  readonly on = (s: CommitStats): void => {
    this.commits++;
    this.jobs += s.jobs;
    this.rows += s.rows;
    this.ms += s.durationMs;
    if (s.durationMs > this.maxMs) this.maxMs = s.durationMs;
    if (s.sync === 'full') {
      this.full++;
      this.fullMs += s.durationMs;
    }
    if (!s.ok) this.failed++;
  };
  summary() {
    const c = Math.max(1, this.commits);
    return {
      commits: this.commits,
      jobs_per_commit: round(this.jobs / c, 1),
      rows_per_commit: round(this.rows / c, 1),
      commit_ms_avg: round(this.ms / c, 3),
      commit_ms_max: round(this.maxMs, 1),
      full_sync_commits: this.full,
      full_commit_ms_avg: round(this.fullMs / Math.max(1, this.full), 3),
      writer_busy_ms: Math.round(this.ms),
      failed_commits: this.failed,
    };
  }
}

const cleanups: (() => void)[] = [];
function freshDir(tag: string): string {
  const t = tempDir(`shouwang-bench-${tag}-`);
  cleanups.push(t.cleanup);
  return t.dir;
}

async function openBenchStore(tag: string, tally: CommitTally): Promise<Store> {
  return Store.open(storeOptions(freshDir(tag), { onCommit: tally.on }));
}

// ---------------------------------------------------------------- phase 1: raw sqlite3

/** The baseline creates the store's own schema (every migration) and inserts rows of exactly the events table's shape. */
const EVENTS_DDL = MIGRATIONS.map((m) => m.sql).join(';\n');
const EVENT_COLUMNS = EVENTS_TABLE.columns;
const RAW_ROWS_PER_STMT = 256;
const RAW_ROWS_PER_TX = 512;

const p = {
  exec: (db: sqlite3.Database, sql: string) => new Promise<void>((res, rej) => db.exec(sql, (e) => (e ? rej(e) : res()))),
  get: <T>(db: sqlite3.Database, sql: string) => new Promise<T>((res, rej) => db.get(sql, (e, row) => (e ? rej(e) : res(row as T)))),
  run: (st: sqlite3.Statement, params: unknown[]) => new Promise<void>((res, rej) => st.run(params, (e: Error | null) => (e ? rej(e) : res()))),
  finalize: (st: sqlite3.Statement) => new Promise<void>((res) => st.finalize(() => res())),
  close: (db: sqlite3.Database) => new Promise<void>((res, rej) => db.close((e) => (e ? rej(e) : res()))),
  open: (file: string) =>
    new Promise<sqlite3.Database>((res, rej) => {
      const db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE, (e) => (e ? rej(e) : res(db)));
    }),
};

interface PhaseResult {
  n: number;
  ms: number;
  perS: number;
  aborted: boolean;
}

/**
 * Plain sqlite3 inserting `n` rows, RAW_ROWS_PER_STMT per statement, into the store's schema, keeping its device
 * and grid timelines the way the store does (gateway/store/event-index.ts). The baseline commits RAW_ROWS_PER_TX rows at
 * synchronous=NORMAL; `{ rowsPerTx: 256, sync: 'FULL' }` is the commit the 256 closed-loop appenders can make
 * (at most 256 events, fsynced since the mix holds alarms): SQLite's own ceiling for the append phase.
 */
async function phaseRaw(
  n: number,
  o: { rowsPerTx: number; sync: 'NORMAL' | 'FULL' } = { rowsPerTx: RAW_ROWS_PER_TX, sync: 'NORMAL' },
): Promise<PhaseResult & { sqliteVersion: string }> {
  const db = await p.open(`${freshDir('raw')}/raw.db`);
  await p.exec(db, `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${o.sync}; PRAGMA temp_store = MEMORY`);
  await p.exec(db, EVENTS_DDL);
  const sqliteVersion = (await p.get<{ v: string }>(db, 'SELECT sqlite_version() AS v')).v;
  // Rows built ahead of time (the same values eventInsert would produce), flattened per statement.
  const stmtCount = Math.ceil(n / RAW_ROWS_PER_STMT);
  const params: unknown[][] = [];
  for (let s = 0; s < stmtCount; s++) {
    const flat: unknown[] = [];
    for (let i = s * RAW_ROWS_PER_STMT; i < Math.min(n, (s + 1) * RAW_ROWS_PER_STMT); i++) {
      const e = sampleEvent(mixKind(i), deviceOf(i));
      flat.push(...eventInsert(e, i + 1, uuidv7(e.receivedAt), gridOf(i)).insert.values);
    }
    params.push(flat);
  }
  const sqlFor = (rows: number) =>
    `INSERT INTO events (${EVENT_COLUMNS.join(',')}) VALUES ${Array(rows)
      .fill(`(${EVENT_COLUMNS.map(() => '?').join(',')})`)
      .join(',')}`;
  const full = db.prepare(sqlFor(RAW_ROWS_PER_STMT));
  const statementsPerTx = Math.max(1, o.rowsPerTx / RAW_ROWS_PER_STMT);
  let done = 0;
  let indexed = 0;
  let aborted = false;
  const t0 = performance.now();
  for (let s = 0; s < stmtCount;) {
    if (performance.now() - t0 > PHASE_LIMIT_MS) {
      aborted = true;
      break;
    }
    await p.exec(db, 'BEGIN IMMEDIATE');
    for (let k = 0; k < statementsPerTx && s < stmtCount; k++, s++) {
      const flat = params[s]!;
      const rows = flat.length / EVENT_COLUMNS.length;
      if (rows === RAW_ROWS_PER_STMT) await p.run(full, flat);
      else {
        const tail = db.prepare(sqlFor(rows));
        await p.run(tail, flat);
        await p.finalize(tail);
      }
      done += rows;
    }
    // The device and grid timelines, indexed the way the store does it (every CATCH_UP_ROWS rows, in the commit).
    if (done - indexed >= CATCH_UP_ROWS || s === stmtCount) {
      for (const st of CATCH_UP) await p.exec(db, st.sql);
      indexed = done;
    }
    await p.exec(db, 'COMMIT');
  }
  const ms = performance.now() - t0;
  await p.finalize(full);
  await p.close(db);
  return { n: done, ms, perS: rate(done, ms), aborted, sqliteVersion };
}

// ---------------------------------------------------------------- phase 2: closed-loop appends

type Mix = 'mix' | 'alarm';

async function phaseAppend(
  n: number,
  mix: Mix,
  withOutbox: boolean,
  tag: string,
): Promise<PhaseResult & { commit: ReturnType<CommitTally['summary']>; errors: number }> {
  const tally = new CommitTally();
  const store = await openBenchStore(tag, tally);
  // Events built ahead of time; only the store is timed.
  const events: DeviceEvent[] = new Array(n);
  for (let i = 0; i < n; i++) events[i] = sampleEvent(mix === 'alarm' ? 'zone_alarm' : mixKind(i), deviceOf(i));
  const opts = (i: number) => (withOutbox ? { grid: gridOf(i), forward } : { grid: gridOf(i) });
  let next = 0;
  let done = 0;
  let errors = 0;
  let aborted = false;
  const t0 = performance.now();
  const deadline = t0 + PHASE_LIMIT_MS;
  const appender = async (): Promise<void> => {
    while (next < n) {
      if (performance.now() > deadline) {
        aborted = true;
        return;
      }
      const i = next++;
      try {
        const r = await store.events.append(events[i]!, opts(i));
        if (r.stored) done++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: APPENDERS }, appender));
  const ms = performance.now() - t0;
  await store.close();
  return { n: done, ms, perS: rate(done, ms), aborted, commit: tally.summary(), errors };
}

// ---------------------------------------------------------------- phase 3: open-loop latency

interface LatencyResult {
  offered: number;
  completed: number;
  errors: number;
  seconds: number;
  achievedPerS: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  unfinished: number;
  commit: ReturnType<CommitTally['summary']>;
}

async function phaseLatency(seconds: number): Promise<LatencyResult> {
  const tally = new CommitTally();
  const store = await openBenchStore('latency', tally);
  const total = Math.round(OFFERED_PER_S * seconds);
  const intervalMs = 1000 / OFFERED_PER_S;
  const latencies = new Float64Array(total);
  let completed = 0;
  let errors = 0;
  let fired = 0;
  let lastDone = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  const fire = (i: number) => {
    const scheduled = t0 + i * intervalMs;
    const pr = store.events
      .append(sampleEvent(mixKind(i), deviceOf(i)), { grid: gridOf(i), forward })
      .then(
        () => {
          const now = performance.now();
          latencies[completed++] = now - scheduled;
          lastDone = now;
        },
        () => {
          errors++;
        },
      )
      .finally(() => inflight.delete(pr));
    inflight.add(pr);
  };
  // Fixed timetable: each tick (~1 ms) fires everything whose scheduled time has come,
  // without waiting for earlier appends; latency counts from the scheduled time.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / intervalMs) + 1);
      while (fired < due) fire(fired++);
      if (fired >= total || now - t0 > PHASE_LIMIT_MS) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  // Let what is in flight finish (bounded).
  const drainDeadline = performance.now() + Math.max(10_000, PHASE_LIMIT_MS - (performance.now() - t0));
  while (inflight.size > 0 && performance.now() < drainDeadline) {
    await Promise.race([Promise.all(inflight), new Promise((r) => setTimeout(r, 250))]);
  }
  const unfinished = inflight.size;
  const elapsedMs = (lastDone || performance.now()) - t0;
  await store.close();
  const sorted = latencies.slice(0, completed).sort();
  return {
    offered: fired,
    completed,
    errors,
    seconds: round(elapsedMs / 1000, 2),
    achievedPerS: rate(completed, elapsedMs),
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    p999: round(percentile(sorted, 99.9)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : 0),
    unfinished,
    commit: tally.summary(),
  };
}

// ---------------------------------------------------------------- phase 4: outbox drain

async function phaseDrain(n: number): Promise<PhaseResult & { filled: number; fillPerS: number; batches: number; nextMs: number; ackMs: number }> {
  const tally = new CommitTally();
  const store = await openBenchStore('drain', tally);
  const FILL_BATCH = 1000;
  const FILL_INFLIGHT = 4;
  const now = Date.now();
  let filled = 0;
  let fillAt = 0;
  const tf = performance.now();
  const filler = async (): Promise<void> => {
    while (fillAt < n && performance.now() - tf < PHASE_LIMIT_MS) {
      const from = fillAt;
      const to = Math.min(n, from + FILL_BATCH);
      fillAt = to;
      const entries: NewOutboxEntry[] = [];
      for (let i = from; i < to; i++) {
        const kind = mixKind(i);
        entries.push({ lane: laneOf(kind), type: 'event', occurredAt: now, body: { id: uuidv7(now), kind, deviceId: deviceOf(i) } });
      }
      await store.outbox.enqueue(entries);
      filled += entries.length;
    }
  };
  await Promise.all(Array.from({ length: FILL_INFLIGHT }, filler));
  const fillMs = performance.now() - tf;

  let drained = 0;
  let batches = 0;
  let nextMs = 0;
  let ackMs = 0;
  let aborted = false;
  const t0 = performance.now();
  const maxBatches = Math.ceil(filled / 1000) * 2 + 10;
  for (;;) {
    if (performance.now() - t0 > PHASE_LIMIT_MS || batches >= maxBatches) {
      aborted = true;
      break;
    }
    const a = performance.now();
    const batch = await store.outbox.next(1000);
    const b = performance.now();
    nextMs += b - a;
    if (batch.length === 0) break;
    drained += await store.outbox.ack(batch.map((e) => e.id));
    ackMs += performance.now() - b;
    batches++;
  }
  const ms = performance.now() - t0;
  await store.close();
  return {
    n: drained,
    ms,
    perS: rate(drained, ms),
    aborted,
    filled,
    fillPerS: rate(filled, fillMs),
    batches,
    nextMs: Math.round(nextMs),
    ackMs: Math.round(ackMs),
  };
}

// ---------------------------------------------------------------- main

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
  try {
    const N = opts.rows;
    progress(`raw sqlite3 baseline, ${fmt(N)} rows`);
    const raw = await phaseRaw(N);
    progress(`raw sqlite3 at the appenders' commit size (${APPENDERS} rows, FULL sync), ${fmt(N)} rows`);
    const rawCommit = await phaseRaw(N, { rowsPerTx: APPENDERS, sync: 'FULL' });
    progress(`append mix + outbox, ${fmt(N)} events, ${APPENDERS} appenders`);
    const mix = await phaseAppend(N, 'mix', true, 'append');
    progress(`append mix, no outbox`);
    const mixNoOutbox = await phaseAppend(N, 'mix', false, 'append-no-outbox');
    progress(`append alarm only (FULL sync)`);
    const alarm = await phaseAppend(N, 'alarm', true, 'append-alarm');
    progress(`latency at ${fmt(OFFERED_PER_S)} events/s offered for ${opts.seconds} s`);
    const lat = await phaseLatency(opts.seconds);
    progress(`outbox drain, ${fmt(N)} entries`);
    const drain = await phaseDrain(N);

    // The headline append is the same row work as the baseline: one events row per append.
    const ratio = raw.perS > 0 ? round(mixNoOutbox.perS / raw.perS, 3) : 0;
    const ratioForwarded = raw.perS > 0 ? round(mix.perS / raw.perS, 3) : 0;
    const pass = {
      append_events_per_s: mixNoOutbox.perS >= TARGETS.append_events_per_s,
      ratio: ratio >= TARGETS.ratio,
      append_p99_ms: lat.p99 <= TARGETS.append_p99_ms && lat.unfinished === 0 && lat.completed > 0,
      drain_events_per_s: drain.perS >= TARGETS.drain_events_per_s,
    };
    const ab = (r: { aborted: boolean }) => (r.aborted ? ' ABORTED at 120 s' : '');
    const ok = (b: boolean) => (b ? 'PASS' : 'MISS');
    process.stdout.write(
      '\n' +
        table([
          ['metric', 'value', 'notes'],
          ['raw_rows_per_s', fmt(raw.perS), `${fmt(raw.n)} rows, ${RAW_ROWS_PER_STMT}/stmt, ${RAW_ROWS_PER_TX}/tx, ${round(raw.ms / 1000)} s${ab(raw)}`],
          [
            'raw_commit256_full_rows_per_s',
            fmt(rawCommit.perS),
            `same, ${APPENDERS} rows/tx fsynced: the commits ${APPENDERS} appenders make, SQLite's ceiling for them${ab(rawCommit)}`,
          ],
          [
            'append_events_per_s',
            fmt(mixNoOutbox.perS),
            `${ok(pass.append_events_per_s)} ≥ ${fmt(TARGETS.append_events_per_s)}; mix (10% alarm), ${fmt(mixNoOutbox.n)} in ${round(mixNoOutbox.ms / 1000)} s, ${mixNoOutbox.commit.commits} commits, ${mixNoOutbox.commit.jobs_per_commit} jobs/commit, ${mixNoOutbox.commit.commit_ms_avg} ms/commit${ab(mixNoOutbox)}`,
          ],
          [
            'append_forwarded_events_per_s',
            fmt(mix.perS),
            `each event also enqueued upstream in the same commit, ${fmt(mix.n)} in ${round(mix.ms / 1000)} s, ${mix.commit.jobs_per_commit} jobs/commit, ${mix.commit.commit_ms_avg} ms/commit${ab(mix)}`,
          ],
          [
            'append_alarm_only_events_per_s',
            fmt(alarm.perS),
            `all FULL sync, ${fmt(alarm.n)} in ${round(alarm.ms / 1000)} s, ${alarm.commit.jobs_per_commit} jobs/commit, ${alarm.commit.commit_ms_avg} ms/commit${ab(alarm)}`,
          ],
          ['ratio', String(ratio), `${ok(pass.ratio)} ≥ ${TARGETS.ratio}; append / raw`],
          ['ratio_forwarded', String(ratioForwarded), 'append_forwarded / raw (twice the rows per append)'],
          ['ratio_same_commit', String(rawCommit.perS > 0 ? round(mixNoOutbox.perS / rawCommit.perS, 3) : 0), 'append / raw at the same commit size and sync'],
          ['append_p50_ms', String(lat.p50), `open loop ${fmt(OFFERED_PER_S)}/s offered, ${fmt(lat.offered)} offered in ${opts.seconds} s`],
          ['append_p99_ms', String(lat.p99), `${ok(pass.append_p99_ms)} ≤ ${TARGETS.append_p99_ms}`],
          ['append_p999_ms', String(lat.p999), ''],
          ['append_max_ms', String(lat.max), `${lat.unfinished} unfinished, ${lat.errors} errors`],
          [
            'achieved_events_per_s',
            fmt(lat.achievedPerS),
            `${fmt(lat.completed)} completed in ${lat.seconds} s, ${lat.commit.jobs_per_commit} jobs/commit, ${lat.commit.commit_ms_avg} ms/commit avg, ${lat.commit.commit_ms_max} max`,
          ],
          [
            'drain_events_per_s',
            fmt(drain.perS),
            `${ok(pass.drain_events_per_s)} ≥ ${fmt(TARGETS.drain_events_per_s)}; ${fmt(drain.n)} in ${round(drain.ms / 1000)} s; next ${drain.nextMs} ms, ack ${drain.ackMs} ms${ab(drain)}`,
          ],
          ['outbox_fill_per_s', fmt(drain.fillPerS), `enqueue in batches of 1000`],
        ]),
    );
    if (opts.json) {
      const result = {
        bench: 'store',
        node: process.version,
        sqlite_version: raw.sqliteVersion,
        cpus: cpus().length,
        n: N,
        seconds: opts.seconds,
        quick: opts.quick,
        appenders: APPENDERS,
        raw_rows_per_s: raw.perS,
        raw_commit256_full_rows_per_s: rawCommit.perS,
        ratio_same_commit: rawCommit.perS > 0 ? round(mixNoOutbox.perS / rawCommit.perS, 3) : 0,
        append_events_per_s: mixNoOutbox.perS,
        append_forwarded_events_per_s: mix.perS,
        append_alarm_only_events_per_s: alarm.perS,
        ratio,
        ratio_forwarded: ratioForwarded,
        append_p50_ms: lat.p50,
        append_p99_ms: lat.p99,
        append_p999_ms: lat.p999,
        append_max_ms: lat.max,
        offered_events_per_s: OFFERED_PER_S,
        achieved_events_per_s: lat.achievedPerS,
        drain_events_per_s: drain.perS,
        outbox_fill_per_s: drain.fillPerS,
        aborted: { raw: raw.aborted, append: mixNoOutbox.aborted, append_forwarded: mix.aborted, append_alarm_only: alarm.aborted, drain: drain.aborted },
        reached: { raw: raw.n, append: mixNoOutbox.n, append_forwarded: mix.n, append_alarm_only: alarm.n, latency: lat.completed, drain: drain.n },
        commits: { append: mixNoOutbox.commit, append_forwarded: mix.commit, append_alarm_only: alarm.commit, latency: lat.commit },
        targets: TARGETS,
        pass,
      };
      process.stdout.write(JSON.stringify(result) + '\n');
    }
    return 0;
  } finally {
    for (const c of cleanups.splice(0)) {
      try {
        c();
      } catch {
        /* best effort */
      }
    }
  }
}
