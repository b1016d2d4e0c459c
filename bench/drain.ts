/**
 * Drain benchmark: a backlog built up while the county was down, then delivered.
 *
 *   npm run bench -- drain [--json] [--quick] [--entries N] [--batch N] [--online-seconds S]
 *
 * 1 fill     N outbox entries (default 1,000,000; --quick 50,000), one alarm in 20, written straight through
 *            the store's outbox API while the pusher runs against a county that is down (connection refused)
 * 2 drain    the county simulator (its own process, `npm run sim -- county`) comes up; time until every entry is
 *            acked; the simulator's accounting says whether alarms came first, and whether anything is lost or missing
 * 3 online   1,000 events/s appended the way ingest does (event + outbox entry in one commit); store-to-county
 *            latency measured by the simulator (arrival − occurredAt, same clock)
 *
 * The replay pace is opened to 100,000/s: the configured pace is the county's choice; this measures the box.
 * Prints a table; with --json the last stdout line is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { HttpTransport } from '../cloud-bridge/push/http.ts';
import { Pusher } from '../cloud-bridge/push/pusher.ts';
import { systemClock } from '../gateway/core/clock.ts';
import { boxEvent, type DeviceEvent, type StoredEvent } from '../gateway/core/events.ts';
import type { NewOutboxEntry } from '../gateway/core/outbox.ts';
import { Store } from '../gateway/store/store.ts';
import { freePort, waitForHttp } from '../tests/helpers/cli.ts';
import { storeOptions, tempDir } from '../tests/helpers/store.ts';
import { fillBacklog } from './_drain-backlog.ts';
import { fmt, rate, round, table } from './_report.ts';

const TOKEN = 'bench-county-token';
const BOX = 'sw-bench-001';
const TARGETS = { drain_events_per_s: 20_000, online_p99_ms: 100 } as const;
const DRAIN_LIMIT_MS = 600_000;

interface Options {
  json: boolean;
  quick: boolean;
  entries: number;
  batch: number;
  onlineSeconds: number;
  alarmEvery: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = { json: false, quick: false, entries: 1_000_000, batch: 2000, onlineSeconds: 20, alarmEvery: 20 };
  let entriesSet = false;
  let onlineSet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const num = (): number => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return Math.floor(v);
    };
    if (a === '--json') o.json = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--entries') {
      o.entries = num();
      entriesSet = true;
    } else if (a === '--batch') o.batch = Math.min(5000, num());
    else if (a === '--online-seconds') {
      o.onlineSeconds = num();
      onlineSet = true;
    } else throw new Error(`unknown flag ${a} (flags: --json --quick --entries N --batch N --online-seconds S)`);
  }
  if (o.quick) {
    if (!entriesSet) o.entries = 50_000;
    if (!onlineSet) o.onlineSeconds = 5;
  }
  return o;
}

interface BoxAccounting {
  received: number;
  duplicates: number;
  rejected: number;
  gaps: number;
  maxSeq: number | null;
  highestContiguousSeq: number | null;
  byLane: Record<string, { count: number; firstArrival: number | null; lastArrival: number | null }>;
  latencyMs: { count: number; p50: number; p99: number; max: number };
}

async function accounting(base: string, latencyAfterSeq = 0): Promise<BoxAccounting | null> {
  const r = await fetch(`${base}/accounting?latencyAfterSeq=${latencyAfterSeq}`);
  const j = (await r.json()) as { boxes: (BoxAccounting & { boxId: string })[] };
  return j.boxes.find((b) => b.boxId === BOX) ?? null;
}

function startCounty(port: number): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulators/run.ts', 'county', '--port', String(port), '--token', TOKEN], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, exited: new Promise((r) => child.on('exit', r)) };
}

export async function main(args: string[]): Promise<number> {
  const o = parseArgs(args);
  const say = (s: string) => (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  const t = tempDir('shouwang-bench-drain-');
  let pusher: Pusher | null = null;
  let store: Store | null = null;
  let county: ReturnType<typeof startCounty> | null = null;
  try {
    store = await Store.open(
      storeOptions(t.dir, {
        onStored: () => pusher?.wake(),
        budget: { ...storeOptions(t.dir).budget, maxDbBytes: 16 * 1024 ** 3, hardCapBytes: 24 * 1024 ** 3 },
      }),
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    pusher = new Pusher({
      boxId: BOX,
      outbox: store.outbox,
      transport: new HttpTransport({
        url: `${base}/api/v1/ingest`,
        auth: { type: 'bearer', token: TOKEN },
        timeoutMs: 30_000,
        clock: systemClock,
        userAgent: 'bench',
      }),
      clock: systemClock,
      log: pino({ level: 'silent' }),
      batchSize: o.batch,
      fairAfterMs: 30_000,
      pacing: { startRate: 100_000, maxRate: 100_000, slowMs: 10_000 },
      backoff: { baseMs: 100, capMs: 500 },
      idlePollMs: 200,
    });
    await pusher.start();

    // 1 fill, the county down
    say(`filling ${fmt(o.entries)} entries (1 in ${o.alarmEvery} an alarm) with the county down...`);
    const fill = await fillBacklog(store, o.entries, o.alarmEvery);
    const failuresWhileDown = pusher.stats().failures;
    const buffered = (await store.outbox.depth()).reduce((n, d) => n + d.depth, 0);
    const lastBacklogSeq = store.outbox.lastSeq();

    // 2 drain
    say(`buffered ${fmt(buffered)} (fill ${fmt(fill.perSecond)}/s; ${failuresWhileDown} refused connections meanwhile); the county comes up...`);
    county = startCounty(port);
    await waitForHttp(`${base}/healthz`, 30_000);
    const t0 = performance.now();
    let acc: BoxAccounting | null = null;
    // Done when the pusher has seen every entry acked (cheap to watch); the outbox is then checked empty once.
    const settled = () => pusher!.stats().accepted + pusher!.stats().deadLettered;
    const settledBefore = settled();
    while (settled() - settledBefore < buffered && performance.now() - t0 < DRAIN_LIMIT_MS) await new Promise((r) => setTimeout(r, 20));
    const drainMs = performance.now() - t0;
    const left = (await store.outbox.depth()).reduce((n, d) => n + d.depth, 0);
    if (left > 0) say(`the outbox still holds ${fmt(left)} entries after ${round(drainMs / 1000, 1)} s`);
    acc = await accounting(base);
    const lanes = acc?.byLane ?? {};
    const alarmLast = lanes.alarm?.lastArrival ?? Infinity;
    const firstOther = Math.min(lanes.record?.firstArrival ?? Infinity, lanes.status?.firstArrival ?? Infinity);
    const alarmsFirst = (lanes.alarm?.count ?? 0) === fill.alarms && alarmLast < firstOther;
    const received = acc?.received ?? 0;
    const lost = buffered - received - (acc?.rejected ?? 0);
    const gaps = acc?.gaps ?? buffered;

    // 3 online: 1,000 events/s the way ingest appends them
    say(`drained in ${round(drainMs / 1000, 1)} s; offering 1,000 events/s for ${o.onlineSeconds} s...`);
    const offered = await online(store, o.onlineSeconds);
    const until = Date.now() + 10_000;
    while ((await store.outbox.depth()).some((d) => d.depth > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const after = await accounting(base, lastBacklogSeq);

    const r = {
      buffered,
      fill_entries_per_s: fill.perSecond,
      drain_seconds: round(drainMs / 1000, 2),
      drain_events_per_s: rate(received, drainMs),
      alarms_first: alarmsFirst,
      lost,
      gaps,
      duplicates: acc?.duplicates ?? 0,
      online_offered: offered,
      online_received: after?.latencyMs.count ?? 0,
      online_p50_ms: after?.latencyMs.p50 ?? null,
      online_p99_ms: after?.latencyMs.p99 ?? null,
      online_max_ms: after?.latencyMs.max ?? null,
      batch: o.batch,
    };
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    say('');
    say(
      table([
        ['buffered', fmt(r.buffered), `entries, ${fmt(fill.alarms)} of them alarms (fill ${fmt(r.fill_entries_per_s)}/s)`],
        [
          'drain_events_per_s',
          fmt(r.drain_events_per_s),
          `${r.drain_seconds} s, batches of ${o.batch}; target ≥ ${fmt(TARGETS.drain_events_per_s)}: ${met(r.drain_events_per_s >= TARGETS.drain_events_per_s)}`,
        ],
        ['alarms_first', String(r.alarms_first), 'every alarm arrived before the first record or status entry'],
        ['lost', fmt(r.lost), `target 0: ${met(r.lost === 0)}`],
        ['gaps', fmt(r.gaps), `target 0: ${met(r.gaps === 0)}`],
        ['duplicates', fmt(r.duplicates), 'dropped by id at the county'],
        [
          'online_p99_ms',
          String(r.online_p99_ms),
          `p50 ${r.online_p50_ms}, max ${r.online_max_ms}; ${r.online_received}/${r.online_offered} events; target ≤ ${TARGETS.online_p99_ms}: ${met((r.online_p99_ms ?? Infinity) <= TARGETS.online_p99_ms)}`,
        ],
      ]),
    );
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    return r.lost === 0 && r.gaps === 0 ? 0 : 1;
  } finally {
    await pusher?.stop();
    county?.child.kill('SIGTERM');
    await county?.exited;
    await store?.close();
    t.cleanup();
  }
}

/** Append `seconds` × 1,000 events, open loop, 10 every 10 ms; the forwarded ones carry their creation time as occurredAt. */
async function online(store: Store, seconds: number): Promise<number> {
  const forward = (e: StoredEvent): NewOutboxEntry => ({
    id: e.id,
    lane: e.lane,
    type: 'event',
    occurredAt: e.receivedAt,
    body: { eventId: e.id, eventSeq: e.seq, kind: e.kind, deviceId: e.deviceId, receivedAt: e.receivedAt, attrs: e.attrs },
  });
  const pending: Promise<unknown>[] = [];
  const start = performance.now();
  let n = 0;
  for (let tick = 0; tick < seconds * 100; tick++) {
    const due = start + tick * 10;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let k = 0; k < 10; k++) {
      const now = Date.now();
      const ev: DeviceEvent =
        n % 20 === 0
          ? { ...boxEvent('zone_alarm', { zone: 4, zoneType: 'perimeter' }, now), deviceId: 'panel-1' }
          : { ...boxEvent('access_granted', { method: 'card' }, now), deviceId: `door-b${n % 8}` };
      pending.push(store.events.append(ev, { forward }));
      n++;
    }
  }
  await Promise.all(pending);
  return n;
}
