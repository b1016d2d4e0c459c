/**
 * Receiving end of the end-to-end benchmark, one child process per system under test:
 *
 *   node --import tsx bench/_e2e-sink.ts --county PORT --token T          the county simulator (CountyReceiver, HTTP push) on 127.0.0.1:PORT
 *   node --import tsx bench/_e2e-sink.ts --mqtt URL --user U --password P  a county subscriber on the baseline's upstream mosquitto
 *                                                                           (sw/v1/+/event, QoS 1, persistent session)
 *
 * Every access event received for the first time is recorded with the device's publish time (`ts`
 * of the device payload; `body.deviceTime` of our envelope, which the box keeps from it), its arrival
 * time (same machine clock) and its id (the device's payload id for the baseline, the box's event id
 * for ours). Prints `{"ready":true,…}` once listening or subscribed, then answers JSON lines on stdin
 * with one JSON line each:
 *
 *   {"cmd":"status"}                           receipts, duplicates, last arrival, bridge state (mqtt)
 *   {"cmd":"arrivals","from":A,"to":B}         receipts that arrived in [A, B] (epoch ms)
 *   {"cmd":"count","from":A,"to":B}            receipts whose device time is in [A, B], and the last arrival of any
 *   {"cmd":"query","from":A,"to":B,"ids":bool} receipts whose device time is in [A, B]: count, latency percentiles, ids
 *   {"cmd":"down"} / {"cmd":"up"}              county only: stop listening (connection refused) / listen again
 *   {"cmd":"accounting"}                       county only: the county's report for the box (gaps, duplicates)
 *
 * SIGTERM, stdin closing or MAX_LIFE_MS ends it. Not a benchmark of its own.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { Accounting, CountyReceiver, type Envelope } from '../simulators/county-platform/index.ts';
import { percentile, round } from './_report.ts';

const MAX_LIFE_MS = 30 * 60_000;
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

/** Receipts in arrival order: device time, arrival time, id. */
class Receipts {
  private ts = new Float64Array(1 << 16);
  private at = new Float64Array(1 << 16);
  readonly ids: string[] = [];
  private seen = new Set<string>();
  duplicates = 0;
  /** Receipts without a usable device time (not counted in latencies). */
  untimed = 0;
  lastArrival = 0;

  get count(): number {
    return this.ids.length;
  }

  add(id: string, ts: number | null, arrival: number): void {
    if (this.seen.has(id)) {
      this.duplicates++;
      return;
    }
    this.seen.add(id);
    const i = this.ids.length;
    if (i === this.ts.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.ts = grow(this.ts);
      this.at = grow(this.at);
    }
    if (ts === null) this.untimed++;
    this.ts[i] = ts ?? NaN;
    this.at[i] = arrival;
    this.ids.push(id);
    this.lastArrival = arrival;
  }

  arrivals(from: number, to: number): number {
    let n = 0;
    for (let i = 0; i < this.ids.length; i++) if (this.at[i]! >= from && this.at[i]! <= to) n++;
    return n;
  }

  countByTs(from: number, to: number): number {
    let n = 0;
    for (let i = 0; i < this.ids.length; i++) if (this.ts[i]! >= from && this.ts[i]! <= to) n++;
    return n;
  }

  query(from: number, to: number, withIds: boolean) {
    const lat: number[] = [];
    const ids: string[] = [];
    let first = Infinity;
    let last = 0;
    for (let i = 0; i < this.ids.length; i++) {
      const t = this.ts[i]!;
      if (!(t >= from && t <= to)) continue;
      const a = this.at[i]!;
      lat.push(a - t);
      if (withIds) ids.push(this.ids[i]!);
      if (a < first) first = a;
      if (a > last) last = a;
    }
    const sorted = Float64Array.from(lat).sort();
    return {
      count: lat.length,
      p50_ms: round(percentile(sorted, 50), 1),
      p99_ms: round(percentile(sorted, 99), 1),
      p999_ms: round(percentile(sorted, 99.9), 1),
      max_ms: round(sorted.length ? sorted[sorted.length - 1]! : 0, 1),
      first_arrival: lat.length ? first : null,
      last_arrival: lat.length ? last : null,
      ...(withIds ? { ids } : {}),
    };
  }
}

interface Args {
  county: { port: number; token: string } | null;
  mqtt: { url: string; user: string; password: string } | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { county: null, mqtt: null };
  let token = '';
  let user = '';
  let password = '';
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[++i] ?? '';
    if (k === '--county') a.county = { port: Number(v), token: '' };
    else if (k === '--token') token = v;
    else if (k === '--mqtt') a.mqtt = { url: v, user: '', password: '' };
    else if (k === '--user') user = v;
    else if (k === '--password') password = v;
    else throw new Error(`e2e-sink: unknown argument ${k}`);
  }
  if (!a.county === !a.mqtt) throw new Error('e2e-sink: give either --county PORT --token T or --mqtt URL --user U --password P');
  if (a.county) {
    if (!Number.isInteger(a.county.port) || a.county.port <= 0 || !token) throw new Error('e2e-sink: --county needs a port and --token');
    a.county.token = token;
  }
  if (a.mqtt) a.mqtt = { ...a.mqtt, user, password };
  return a;
}

interface Sink {
  status(): object;
  down?(): Promise<void>;
  up?(): Promise<void>;
  accounting?(): object;
  stop(): Promise<void>;
}

async function countySink(port: number, token: string, r: Receipts): Promise<Sink> {
  const accounting = new Accounting({
    onReceipt: (e: Envelope, arrival: number) => {
      const body = e.body as { kind?: unknown; deviceTime?: unknown };
      if (e.type !== 'event' || body.kind !== 'access_granted') return;
      r.add(e.id, typeof body.deviceTime === 'number' ? body.deviceTime : null, arrival);
    },
  });
  const county = await new CountyReceiver({ host: '127.0.0.1', port, tokens: [token], accounting }).start();
  return {
    status: () => ({ mode: county.mode, requests: county.requests }),
    down: () => county.setMode('down'),
    up: () => county.setMode('healthy'),
    accounting: () => accounting.report().boxes.map(({ rejections: _, devices: __, ...b }) => b),
    stop: () => county.stop(),
  };
}

async function mqttSink(url: string, user: string, password: string, r: Receipts): Promise<Sink> {
  let bridge: string | null = null;
  let connects = 0;
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    clientId: 'county-e2e-subscriber',
    username: user,
    password,
    clean: false,
    keepalive: 30,
    reconnectPeriod: 200,
    connectTimeout: 10_000,
  });
  client.on('error', () => {});
  client.on('connect', () => connects++);
  client.on('message', (topic, payload) => {
    const now = Date.now();
    if (topic.startsWith('$SYS/')) {
      bridge = payload.toString();
      return;
    }
    let m: { id?: unknown; ts?: unknown };
    try {
      m = JSON.parse(payload.toString()) as typeof m;
    } catch {
      return;
    }
    if (typeof m.id === 'string') r.add(m.id, typeof m.ts === 'number' ? m.ts : null, now);
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`e2e-sink: no CONNACK from ${url} within 15 s`)), 15_000);
    client.once('connect', () => {
      client.subscribe({ 'sw/v1/+/event': { qos: 1 }, '$SYS/broker/connection/+/state': { qos: 1 } }, (err) => {
        clearTimeout(t);
        if (err) reject(err);
        else resolve();
      });
    });
  });
  return {
    status: () => ({ connected: client.connected, connects, bridge }),
    stop: () => new Promise<void>((resolve) => client.end(true, {}, () => resolve())),
  };
}

async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const r = new Receipts();
  const sink = args.county ? await countySink(args.county.port, args.county.token, r) : await mqttSink(args.mqtt!.url, args.mqtt!.user, args.mqtt!.password, r);
  let stopping = false;
  const bye = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.race([sink.stop(), new Promise((res) => setTimeout(res, 3000))]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void bye());
  process.on('SIGINT', () => void bye());
  setTimeout(() => void bye(), MAX_LIFE_MS).unref();
  let queue: Promise<void> = Promise.resolve();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      let c: { cmd?: string; from?: number; to?: number; ids?: boolean };
      try {
        c = JSON.parse(line) as typeof c;
      } catch {
        say({ error: `not JSON: ${line.slice(0, 80)}` });
        return;
      }
      const from = Number(c.from ?? 0);
      const to = Number(c.to ?? Number.MAX_SAFE_INTEGER);
      if (c.cmd === 'status')
        say({ status: true, receipts: r.count, duplicates: r.duplicates, untimed: r.untimed, last_arrival: r.lastArrival, now: Date.now(), ...sink.status() });
      else if (c.cmd === 'arrivals') say({ arrivals: r.arrivals(from, to) });
      else if (c.cmd === 'count') say({ count: r.countByTs(from, to), last_arrival: r.lastArrival, now: Date.now() });
      else if (c.cmd === 'query') say({ query: true, ...r.query(from, to, c.ids === true) });
      else if (c.cmd === 'down' && sink.down) say({ down: true, at: (await sink.down(), Date.now()) });
      else if (c.cmd === 'up' && sink.up) say({ up: true, at: (await sink.up(), Date.now()) });
      else if (c.cmd === 'accounting' && sink.accounting) say({ accounting: sink.accounting() });
      else say({ error: `unknown command ${String(c.cmd)} for this sink` });
    });
  });
  rl.on('close', () => void queue.then(bye));
  say({ ready: true, pid: process.pid, kind: args.county ? 'county' : 'mqtt' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`e2e-sink: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
