/**
 * End-to-end benchmark: device → box → county, ours beside the store-and-forward a user would otherwise pick.
 *
 *   npm run bench -- e2e [--json] [--quick] [--seconds S] [--devices N] [--inflight K] [--outage-seconds O] [--baseline-queue Q]
 *
 * Ours: simulated MQTT devices (two load processes, `_ingest-load.ts --ts`) publish QoS 1 to the gateway's
 * broker (the gateway in its own process, `_ingest-gateway.ts` with an HTTP upstream and default forwarding,
 * so access_granted goes to the county); events pass the rules and the store and are pushed over HTTP to
 * the county simulator (its own process, `_e2e-sink.ts --county`).
 * Baseline: the same devices and load against a local Debian mosquitto (persistence on, password file and
 * ACL) bridged at QoS 1, cleansession false, to an upstream mosquitto, with a county subscriber on the
 * upstream (`_e2e-sink.ts --mqtt`); both brokers started here (`_e2e-mosquitto.ts`, configs in the report).
 *
 * Phases, ours first, then the baseline, on the same machine in the same run:
 *   1 saturation  closed loop (K QoS 1 events in flight per device) for S s: county receipts per second
 *   2 latency     open loop, 1,000 events/s for S s: device publish (`ts`) → county receipt, p50/p99
 * then both at once, through the same outage:
 *   3 outage      200 events/s offered to each for pre + O + post seconds; after `pre` the county simulator
 *                 stops listening and the upstream mosquitto is stopped; after O s both come back; once
 *                 everything drained: events the devices saw acknowledged that never reached the county
 *                 (ours: acked device ids → the box's events (by the device's id) → the county's receipts;
 *                 baseline: acked ids → the subscriber's receipts).
 *
 * Prints a table; with --json the last stdout line is one JSON object. Exit 1 when ours lost an
 * acknowledged event across the outage or the county saw a seq gap (never on throughput figures), 2 on bad
 * flags. Every wait is bounded; every child process is stopped and the temp dir removed, also on failure.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { DB_NAME } from '../gateway/store/store.ts';
import { freePort } from '../tests/helpers/cli.ts';
import { tempDir } from '../tests/helpers/store.ts';
import { COUNTY_PASSWORD, COUNTY_USER, MOSQUITTO, MOSQUITTO_DEFAULTS, Mosquitto, writeBaseline } from './_e2e-mosquitto.ts';
import {
  ackedIds,
  answers,
  ask,
  drained,
  latency,
  num,
  PHASE_SLACK_MS,
  saturation,
  sleep,
  sum,
  type Drain,
  type Latency,
  type Saturation,
  type System,
} from './_e2e-phases.ts';
import { Child, memMb } from './_proc.ts';
import { fmt, round, table } from './_report.ts';

const TOKEN = 'bench-e2e-county-token';
const LOADERS = 2;
const LATENCY_PER_S = 1_000;
const OUTAGE_PER_S = 200;
const TARGETS = { events_per_s: 5_000, p99_ms: 100, outage_lost: 0 } as const;
const START_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 120_000;

interface Options {
  json: boolean;
  quick: boolean;
  seconds: number;
  devices: number;
  inflight: number;
  outageSeconds: number;
  /** Seconds of traffic before and after the outage. */
  pre: number;
  post: number;
  /** max_queued_messages of the baseline's box (mosquitto's default 1000). */
  queue: number;
  /** Bounds on waiting for the county to receive a backlog, and how long nothing arriving ends the wait after the outage. */
  drainBoundMs: number;
  quietMs: number;
  outageDrainBoundMs: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    json: false,
    quick: false,
    seconds: 10,
    devices: 200,
    inflight: 10,
    outageSeconds: 300,
    pre: 10,
    post: 20,
    queue: MOSQUITTO_DEFAULTS.max_queued_messages,
    drainBoundMs: 120_000,
    quietMs: 8000,
    outageDrainBoundMs: 240_000,
  };
  const set = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (min: number): number => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < min) throw new Error(`${a} needs a number ≥ ${min}`);
      set.add(a);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--seconds') o.seconds = Math.min(120, value(1));
    else if (a === '--devices') o.devices = Math.max(LOADERS, Math.min(2000, Math.floor(value(1))));
    else if (a === '--inflight') o.inflight = Math.min(100, Math.floor(value(1)));
    else if (a === '--outage-seconds') o.outageSeconds = Math.min(600, value(1));
    else if (a === '--baseline-queue') o.queue = Math.floor(value(0));
    else throw new Error(`unknown flag ${a} (flags: --json --quick --seconds S --devices N --inflight K --outage-seconds O --baseline-queue Q (0 = no limit))`);
  }
  if (o.quick) {
    if (!set.has('--seconds')) o.seconds = 3;
    if (!set.has('--devices')) o.devices = 100;
    if (!set.has('--outage-seconds')) o.outageSeconds = 20;
    o.pre = 1;
    o.post = 2;
    o.quietMs = 5000;
    o.drainBoundMs = 45_000;
    o.outageDrainBoundMs = 75_000;
  }
  return o;
}

interface OutageResult {
  offered: number;
  acked: number;
  received: number;
  lost: number;
  /** Ours only: acked events the box has no record of (lost before the store). */
  lostAtBox: number;
  drain: Drain;
  errors: number;
}

/** Ours: acked device ids → the box's event ids (its store keeps the device's id as dedupe key) → missing at the county. */
async function oursLost(dataDir: string, acked: string[], received: Set<string>, since: number): Promise<{ lost: number; lostAtBox: number }> {
  const db = await new Promise<sqlite3.Database>((res, rej) => {
    const d = new sqlite3.Database(join(dataDir, DB_NAME), sqlite3.OPEN_READONLY, (e) => (e ? rej(e) : res(d)));
  });
  try {
    const rows = await new Promise<{ id: string; k: string }[]>((res, rej) =>
      db.all(
        "SELECT id, dedupe_key AS k FROM events WHERE kind = 'access_granted' AND received_at >= ? AND dedupe_key IS NOT NULL",
        [since - 60_000],
        (e, r) => (e ? rej(e) : res(r as { id: string; k: string }[])),
      ),
    );
    const byDeviceId = new Map(rows.map((r) => [r.k, r.id]));
    let lost = 0;
    let lostAtBox = 0;
    for (const id of acked) {
      const eventId = byDeviceId.get(id);
      if (eventId === undefined) lostAtBox++;
      else if (!received.has(eventId)) lost++;
    }
    return { lost: lost + lostAtBox, lostAtBox };
  } finally {
    await new Promise<void>((res) => db.close(() => res()));
  }
}

export async function main(args: string[]): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (!MOSQUITTO) {
    process.stderr.write('e2e: mosquitto is not installed (apt-get install -y mosquitto): the baseline needs it\n');
    return 2;
  }
  const started = Date.now();
  const progress = (m: string) => (o.json ? process.stderr : process.stdout).write(`… ${Math.round((Date.now() - started) / 1000)} s ${m}\n`);
  const tmp = tempDir('shouwang-bench-e2e-');
  const children: Child[] = [];
  const brokers: Mosquitto[] = [];
  const killAll = () => {
    for (const c of children) c.kill();
    for (const b of brokers) b.kill();
  };
  const onSignal = () => {
    killAll();
    tmp.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const child = (name: string, script: string, argv: string[], flags: string[] = []) => {
    const c = Child.node(name, script, argv, flags);
    children.push(c);
    return c;
  };
  const loadavg0 = loadavg()[0]!;
  try {
    // ---------------------------------------------------------------- ours: county, gateway
    const countyPort = await freePort();
    const county = child('county', '_e2e-sink.ts', ['--county', String(countyPort), '--token', TOKEN]);
    await county.next(START_TIMEOUT_MS, 'county ready');
    const gwDir = join(tmp.dir, 'gateway');
    const gw = child('gateway', '_ingest-gateway.ts', [
      '--data',
      gwDir,
      '--devices',
      String(o.devices),
      '--county',
      `http://127.0.0.1:${countyPort}/api/v1/ingest`,
      '--county-token',
      TOKEN,
    ]);
    const ready = await gw.next(START_TIMEOUT_MS, 'gateway ready');
    if (!ready.ready || !num(ready, 'port')) throw new Error(`gateway: unexpected first line ${JSON.stringify(ready)}`);
    progress(`gateway listening (pid ${gw.pid}), county simulator on ${countyPort}`);

    // ---------------------------------------------------------------- baseline: upstream, subscriber, box mosquitto
    const localPort = await freePort();
    const upstreamPort = await freePort();
    const files = writeBaseline({ dir: join(tmp.dir, 'mosquitto'), localPort, upstreamPort, devices: o.devices, queue: o.queue });
    const upstream = new Mosquitto('upstream', files.upstream, upstreamPort);
    brokers.push(upstream);
    await upstream.start();
    const subscriber = child('subscriber', '_e2e-sink.ts', [
      '--mqtt',
      `mqtt://127.0.0.1:${upstreamPort}`,
      '--user',
      COUNTY_USER,
      '--password',
      COUNTY_PASSWORD,
    ]);
    await subscriber.next(START_TIMEOUT_MS, 'subscriber ready');
    const local = new Mosquitto('box', files.local, localPort);
    brokers.push(local);
    await local.start();
    const bridgeUntil = Date.now() + 30_000;
    while ((await ask(subscriber, { cmd: 'status' }, 'status')).bridge !== '1') {
      if (Date.now() > bridgeUntil) throw new Error(`the baseline's bridge did not connect within 30 s: ${local.log}`);
      await sleep(100);
    }
    progress(`baseline: box mosquitto on ${localPort} bridged to upstream on ${upstreamPort}`);

    // ---------------------------------------------------------------- devices
    const per = Math.ceil(o.devices / LOADERS);
    const loadsFor = (name: string, port: number) =>
      Array.from({ length: LOADERS }, (_, i) =>
        child(`${name}-load-${i + 1}`, '_ingest-load.ts', [
          '--port',
          String(port),
          '--from',
          String(i * per),
          '--count',
          String(Math.max(0, Math.min(per, o.devices - i * per))),
          '--ts',
        ]),
      );
    const ours: System = { name: 'ours', boxPid: () => gw.pid, loads: loadsFor('ours', num(ready, 'port')), sink: county };
    const base: System = { name: 'baseline', boxPid: () => local.pid, loads: loadsFor('baseline', localPort), sink: subscriber };
    for (const s of [ours, base]) {
      const conn = await answers(s.loads, `${s.name} connect`, CONNECT_TIMEOUT_MS);
      const connected = sum(conn, 'connected');
      if (connected !== o.devices)
        throw new Error(`${s.name}: ${connected} of ${o.devices} devices connected: ${conn.map((m) => m.error).find(Boolean) ?? ''}`);
    }
    progress(`${o.devices} devices connected to each`);
    const ourPids = () => [...children.map((c) => c.pid), ...brokers.map((b) => b.pid)];

    // ---------------------------------------------------------------- 1, 2: one system at a time
    // After a saturation or latency phase, nothing arriving for 2 s (3 s in the full run) ends the wait for the county.
    const phaseOpts = {
      seconds: o.seconds,
      inflight: o.inflight,
      warmupSeconds: o.quick ? 1 : 2,
      drainBoundMs: o.drainBoundMs,
      quietMs: o.quick ? 2000 : 3000,
    };
    const sat: Record<System['name'], Saturation> = {} as never;
    const lat: Record<System['name'], Latency> = {} as never;
    for (const s of [ours, base]) {
      sat[s.name] = await saturation(s, { ...phaseOpts, ourPids: ourPids() }, progress);
      lat[s.name] = await latency(s, { ...phaseOpts, perS: LATENCY_PER_S, ourPids: ourPids() }, progress);
    }

    // ---------------------------------------------------------------- 3: the same outage for both
    const total = o.pre + o.outageSeconds + o.post;
    progress(`outage: ${OUTAGE_PER_S} events/s offered to each for ${total} s; upstreams down from ${o.pre} s for ${o.outageSeconds} s`);
    const t3 = Date.now();
    for (const s of [ours, base])
      s.loads.forEach((l, i) => l.send({ cmd: 'open', seconds: total, rate: OUTAGE_PER_S / LOADERS, phase: i / LOADERS, ids: true }));
    await sleep(t3 + o.pre * 1000 - Date.now());
    await Promise.all([ask(county, { cmd: 'down' }, 'county down'), upstream.stop()]);
    const downAt = Date.now();
    progress('outage: county simulator down, upstream mosquitto stopped');
    await sleep(t3 + (o.pre + o.outageSeconds) * 1000 - Date.now());
    await Promise.all([ask(county, { cmd: 'up' }, 'county up'), upstream.start()]);
    const upAt = Date.now();
    progress(`outage: both upstreams back after ${round((upAt - downAt) / 1000, 1)} s; waiting for the devices' last PUBACKs`);
    const [oursAns, baseAns] = await Promise.all([ours, base].map((s) => answers(s.loads, `${s.name} outage`, total * 1000 + PHASE_SLACK_MS)));
    progress(`outage: waiting for both backlogs to reach the county (up to ${Math.round(o.outageDrainBoundMs / 1000)} s)`);
    const [oursDrain, baseDrain] = await Promise.all([
      drained(ours, t3, sum(oursAns!, 'completed'), { quietMs: o.quietMs, boundMs: o.outageDrainBoundMs, after: upAt }),
      drained(base, t3, sum(baseAns!, 'completed'), { quietMs: o.quietMs, boundMs: o.outageDrainBoundMs, after: upAt }),
    ]);
    const idsAt = async (s: System) => new Set((await ask(s.sink, { cmd: 'query', from: t3, ids: true }, 'ids', 60_000)).ids as string[]);
    const oursReceived = await idsAt(ours);
    const baseReceived = await idsAt(base);
    const baseAcked = ackedIds(baseAns!);
    const baseOutage: OutageResult = {
      offered: sum(baseAns!, 'offered'),
      acked: baseAcked.length,
      received: baseReceived.size,
      lost: baseAcked.filter((id) => !baseReceived.has(id)).length,
      lostAtBox: 0,
      drain: baseDrain!,
      errors: sum(baseAns!, 'errors'),
    };

    // ---------------------------------------------------------------- stop, then the box's records
    for (const l of [...ours.loads, ...base.loads]) l.send({ cmd: 'end' });
    await Promise.all([...ours.loads, ...base.loads].map((l) => l.next(10_000, 'end').catch(() => null)));
    const gwMem = memMb(gw.pid);
    const baseMem = memMb(local.pid);
    gw.proc.kill('SIGTERM');
    const stopped = await gw.next(30_000, 'gateway stop').catch(() => null);
    await gw.stop(5000);
    const acc = ((await ask(county, { cmd: 'accounting' }, 'accounting')).accounting as { gaps: number; duplicates: number; received: number }[])[0];
    const oursAcked = ackedIds(oursAns!);
    const ol = await oursLost(gwDir, oursAcked, oursReceived, t3);
    const oursOutage: OutageResult = {
      offered: sum(oursAns!, 'offered'),
      acked: oursAcked.length,
      received: oursReceived.size,
      lost: ol.lost,
      lostAtBox: ol.lostAtBox,
      drain: oursDrain!,
      errors: sum(oursAns!, 'errors'),
    };
    const gaps = acc?.gaps ?? 0;

    // ---------------------------------------------------------------- report
    const ratio = sat.baseline.perS > 0 ? round(sat.ours.perS / sat.baseline.perS, 2) : null;
    const pass = {
      events_per_s: sat.ours.perS >= TARGETS.events_per_s,
      p99_ms: lat.ours.received > 0 && lat.ours.p99 <= TARGETS.p99_ms,
      outage_lost: oursOutage.lost === 0,
    };
    const ok = (b: boolean) => (b ? 'met' : 'MISSED');
    const drainNote = (d: Drain) =>
      d.complete
        ? `all arrived, the last ${round(d.waitedMs / 1000, 1)} s after the devices' last PUBACK`
        : `${fmt(d.expected - d.count)} never arrived (waited ${round(d.waitedMs / 1000, 1)} s, until ${d.ended === 'quiet' ? `nothing came for ${round(d.quietMs / 1000, 1)} s` : 'the bound'})`;
    const rows: [string, string, string][] = [
      ['', 'value', 'notes'],
      [
        'events_per_s',
        fmt(sat.ours.perS),
        `${ok(pass.events_per_s)} ≥ ${fmt(TARGETS.events_per_s)}; ${fmt(sat.ours.received)} events of a ${o.seconds} s closed loop (${o.devices} devices × ${o.inflight} in flight) at the county ${round(sat.ours.deliveredMs / 1000, 1)} s after its start, ${drainNote(sat.ours.drain)}; the box acked ${fmt(sat.ours.ackedPerS)}/s, the county got ${fmt(sat.ours.windowPerS)}/s within the window`,
      ],
      ['p50_ms', String(lat.ours.p50), `device publish → county receipt at ${fmt(LATENCY_PER_S)}/s offered (${fmt(lat.ours.received)} events)`],
      [
        'p99_ms',
        String(lat.ours.p99),
        `${ok(pass.p99_ms)} ≤ ${TARGETS.p99_ms}; p99.9 ${lat.ours.p999}, max ${lat.ours.max}; load generators' worst lag ${lat.ours.maxFireLagMs} ms`,
      ],
      ['cpu_pct', String(sat.ours.boxCpuPct), `gateway process at saturation (100 = one core); ${lat.ours.boxCpuPct} at ${fmt(LATENCY_PER_S)}/s`],
      ['rss_mb', String(gwMem.hwm), `gateway VmHWM (peak) over the run, outage backlog included; now ${gwMem.rss}`],
      [
        'outage_lost',
        fmt(oursOutage.lost),
        `${ok(pass.outage_lost)} = 0; of ${fmt(oursOutage.acked)} acked across a ${o.outageSeconds} s county outage; ${drainNote(oursOutage.drain)}; county seq gaps ${gaps}, duplicates dropped ${acc?.duplicates ?? '?'}`,
      ],
      [
        'baseline_events_per_s',
        fmt(sat.baseline.perS),
        `same closed loop: ${fmt(sat.baseline.received)} events at the upstream subscriber ${round(sat.baseline.deliveredMs / 1000, 1)} s after its start; the box mosquitto acked ${fmt(sat.baseline.ackedPerS)}/s; of ${fmt(sat.baseline.acked)} acked ${drainNote(sat.baseline.drain)}`,
      ],
      [
        'baseline_p50_ms',
        String(lat.baseline.p50),
        `at ${fmt(LATENCY_PER_S)}/s offered (${fmt(lat.baseline.received)} of ${fmt(lat.baseline.acked)} acked arrived)`,
      ],
      ['baseline_p99_ms', String(lat.baseline.p99), `p99.9 ${lat.baseline.p999}, max ${lat.baseline.max}`],
      ['baseline_cpu_pct', String(sat.baseline.boxCpuPct), `box mosquitto at saturation; VmHWM ${baseMem.hwm} MB`],
      [
        'baseline_outage_lost',
        fmt(baseOutage.lost),
        `of ${fmt(baseOutage.acked)} acked across the same outage (max_queued_messages ${o.queue === 0 ? '0 = no limit' : fmt(o.queue)}); ${drainNote(baseOutage.drain)}`,
      ],
      ['ratio', String(ratio ?? '?'), 'ours / baseline end-to-end throughput'],
      [
        'machine',
        `${cpus().length} cpu`,
        `load average ${round(loadavg0, 1)} → ${round(loadavg()[0]!, 1)}; other processes took ${sat.ours.otherCpuPct} / ${sat.baseline.otherCpuPct} % CPU during the saturation phases`,
      ],
    ];
    process.stdout.write('\n' + table(rows));
    if (o.json) {
      const result = {
        bench: 'e2e',
        node: process.version,
        cpus: cpus().length,
        quick: o.quick,
        seconds: o.seconds,
        devices: o.devices,
        inflight_per_device: o.inflight,
        events_per_s: sat.ours.perS,
        p50_ms: lat.ours.p50,
        p99_ms: lat.ours.p99,
        cpu_pct: sat.ours.boxCpuPct,
        rss_mb: gwMem.hwm,
        baseline_events_per_s: sat.baseline.perS,
        baseline_p50_ms: lat.baseline.p50,
        baseline_p99_ms: lat.baseline.p99,
        ratio,
        outage_lost: oursOutage.lost,
        baseline_outage_lost: baseOutage.lost,
        outage_seconds: o.outageSeconds,
        outage_offered_per_s: OUTAGE_PER_S,
        latency_offered_per_s: LATENCY_PER_S,
        outage: { ours: oursOutage, baseline: baseOutage, down_at: downAt, up_at: upAt },
        saturation: sat,
        latency: lat,
        county: { gaps, duplicates: acc?.duplicates ?? null, received: acc?.received ?? null },
        baseline_config: { max_queued_messages: o.queue, local: files.localText.split('\n'), upstream: files.upstreamText.split('\n') },
        gateway_stop: stopped,
        baseline_cpu_pct: sat.baseline.boxCpuPct,
        baseline_rss_mb: baseMem.hwm,
        other_cpu_pct: { ours: sat.ours.otherCpuPct, baseline: sat.baseline.otherCpuPct },
        loadavg: [round(loadavg0, 2), round(loadavg()[0]!, 2)],
        elapsed_s: Math.round((Date.now() - started) / 1000),
        targets: TARGETS,
        pass,
      };
      process.stdout.write(JSON.stringify(result) + '\n');
    }
    return oursOutage.lost === 0 && gaps === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`e2e benchmark failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await Promise.all([...children.map((c) => c.stop(3000)), ...brokers.map((b) => b.stop(3000))]);
    try {
      tmp.cleanup();
    } catch {
      /* best effort */
    }
  }
}
