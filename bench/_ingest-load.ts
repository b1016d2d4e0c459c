/**
 * Load generator of the ingest benchmark, run by `bench/ingest.ts` as a child process:
 *
 *   node --import tsx bench/ingest-load.ts --port P --from A --count C [--ts]
 *
 * Opens C device connections (devices A..A+C-1, each its own mqtt.js client,
 * client id = user name = device id, demo password), then takes commands as
 * JSON lines on stdin and answers each with one JSON line on stdout:
 *
 *   {"cmd":"closed","tag":T,"seconds":S,"inflight":K}   closed loop: every device keeps up to K QoS 1 events in flight for S s
 *   {"cmd":"open","seconds":S,"rate":R,"phase":F}        open loop: R events/s offered (round robin over the devices) for S s;
 *                                                       latency = PUBACK time - scheduled time (event i at t0 + (i+F)/R);
 *                                                       with "ids":true the answer also lists the ids of the acked events
 *   {"cmd":"end"}                                        disconnect everything and exit
 *
 * Every event is `{"id":"<device>-<n>","type":"access","result":"granted","method":"card"}` with a
 * per-device counter, so every id is unique; with --ts it also carries `"ts":<epoch ms>`, the device's
 * publish time (the end-to-end benchmark measures publish → county receipt with it). Every phase is bounded in time; stdin closing or
 * MAX_LIFE_MS ends the process. Not a benchmark of its own.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceId, devicePassword } from './_ingest-devices.ts';

const MAX_LIFE_MS = 15 * 60_000;
const CONNECT_CONCURRENCY = 25;
const CONNECT_TIMEOUT_MS = 20_000;
const CONNECT_PHASE_MS = 90_000;
/** How long a phase waits for PUBACKs of what is still in flight when its time is up. */
const DRAIN_MS = 15_000;

interface Device {
  id: string;
  topic: string;
  client: MqttClient;
  n: number;
}

const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

function connectOne(url: string, id: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      protocolVersion: 4,
      clientId: id,
      username: id,
      password: devicePassword(id),
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    const fail = (err: Error) => {
      c.end(true);
      reject(err);
    };
    c.once('connect', () => {
      c.removeListener('error', fail);
      c.on('error', () => {});
      resolve(c);
    });
    c.once('error', fail);
    c.once('close', () => reject(new Error(`${id}: closed before CONNACK`)));
  });
}

class Load {
  devices: Device[] = [];
  drops = 0;

  constructor(
    private readonly url: string,
    private readonly from: number,
    private readonly count: number,
    private readonly stamp: boolean,
  ) {}

  async connect(): Promise<object> {
    const t0 = performance.now();
    let next = 0;
    let failed = 0;
    let firstError: string | null = null;
    const worker = async (): Promise<void> => {
      while (next < this.count && performance.now() - t0 < CONNECT_PHASE_MS) {
        const id = deviceId(this.from + next++);
        try {
          const client = await connectOne(this.url, id);
          client.on('close', () => this.drops++);
          this.devices.push({ id, topic: `sw/v1/${id}/event`, client, n: 0 });
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
    return { type: 'connected', connected: this.devices.length, failed, error: firstError, ms: Math.round(performance.now() - t0) };
  }

  private payload(d: Device): string {
    return `{"id":"${d.id}-${++d.n}","type":"access","result":"granted","method":"card"${this.stamp ? `,"ts":${Date.now()}` : ''}}`;
  }

  /** Closed loop: each device keeps up to `k` events in flight until `seconds` are up. */
  closed(tag: string, seconds: number, k: number): Promise<object> {
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    let sent = 0;
    let inflight = 0;
    let ackedInWindow = 0;
    let ackedTotal = 0;
    let errors = 0;
    let firstError: string | null = null;
    const drops0 = this.drops;
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(hard);
        resolve({
          type: 'closed',
          tag,
          sent,
          acked_in_window: ackedInWindow,
          acked_total: ackedTotal,
          window_ms: Math.round(deadline - t0),
          drain_ms: Math.round(Math.max(0, performance.now() - deadline)),
          unfinished: inflight,
          errors,
          error: firstError,
          drops: this.drops - drops0,
        });
      };
      const hard = setTimeout(finish, seconds * 1000 + DRAIN_MS);
      const fire = (d: Device): void => {
        sent++;
        inflight++;
        d.client.publish(d.topic, this.payload(d), { qos: 1 }, (err) => {
          inflight--;
          const now = performance.now();
          if (err) {
            errors++;
            firstError ??= err.message;
          } else {
            ackedTotal++;
            if (now <= deadline) ackedInWindow++;
          }
          if (!err && now < deadline && d.client.connected && !done) fire(d);
          else if (inflight === 0) finish();
        });
      };
      for (const d of this.devices) for (let j = 0; j < k; j++) fire(d);
      if (inflight === 0) finish();
    });
  }

  /** Open loop: `rate` events/s on a fixed timetable, round robin over the devices, for `seconds`. */
  open(seconds: number, rate: number, phase: number, withIds = false): Promise<object> {
    const total = Math.max(0, Math.round(rate * seconds));
    const intervalMs = 1000 / rate;
    const latencies = new Float64Array(total);
    const ackedIds: string[] = [];
    const nd = this.devices.length;
    let fired = 0;
    let completed = 0;
    let inflight = 0;
    let errors = 0;
    let firstError: string | null = null;
    let lastAck = 0;
    let maxLagMs = 0;
    const drops0 = this.drops;
    const t0 = performance.now();
    return new Promise((resolve) => {
      let done = false;
      let firing = true;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(hard);
        const lat: number[] = [];
        for (let i = 0; i < completed; i++) lat.push(Math.round(latencies[i]! * 1000) / 1000);
        resolve({
          type: 'open',
          offered: fired,
          completed,
          unfinished: inflight,
          errors,
          error: firstError,
          drops: this.drops - drops0,
          elapsed_ms: Math.round((lastAck || performance.now()) - t0),
          max_fire_lag_ms: Math.round(maxLagMs * 100) / 100,
          latencies: lat,
          ...(withIds ? { acked_ids: ackedIds } : {}),
        });
      };
      const hard = setTimeout(finish, seconds * 1000 + DRAIN_MS);
      const fire = (i: number): void => {
        const d = this.devices[i % nd]!;
        const scheduled = t0 + (i + phase) * intervalMs;
        inflight++;
        const payload = this.payload(d);
        const id = withIds ? `${d.id}-${d.n}` : '';
        d.client.publish(d.topic, payload, { qos: 1 }, (err) => {
          inflight--;
          const now = performance.now();
          if (err) {
            errors++;
            firstError ??= err.message;
          } else {
            if (withIds) ackedIds.push(id);
            latencies[completed++] = now - scheduled;
            lastAck = now;
          }
          if (!firing && inflight === 0) finish();
        });
      };
      // Each tick (~1 ms) fires everything whose time has come, without waiting for earlier PUBACKs.
      const tick = () => {
        if (done) return;
        const now = performance.now();
        const due = Math.min(total, Math.max(0, Math.floor((now - t0) / intervalMs - phase) + 1));
        if (fired < due) maxLagMs = Math.max(maxLagMs, now - (t0 + (fired + phase) * intervalMs));
        while (fired < due) fire(fired++);
        if (fired >= total || now - t0 > seconds * 1000 + 1000) {
          firing = false;
          if (inflight === 0) finish();
        } else setTimeout(tick, 1);
      };
      if (nd === 0 || total === 0) {
        firing = false;
        finish();
      } else tick();
    });
  }

  async end(): Promise<void> {
    await Promise.race([
      Promise.all(this.devices.map((d) => new Promise<void>((resolve) => d.client.end(true, {}, () => resolve())))),
      new Promise((r) => setTimeout(r, 3000)),
    ]);
  }
}

function parseArgs(argv: string[]): { port: number; from: number; count: number; ts: boolean } {
  const a = { port: 0, from: 0, count: 0, ts: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--ts') {
      a.ts = true;
      continue;
    }
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`ingest-load: ${k} needs a non-negative integer`);
    if (k === '--port') a.port = v;
    else if (k === '--from') a.from = v;
    else if (k === '--count') a.count = v;
    else throw new Error(`ingest-load: unknown argument ${k}`);
  }
  if (!a.port) throw new Error('ingest-load: --port is required');
  return a;
}

async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const load = new Load(`mqtt://127.0.0.1:${args.port}`, args.from, args.count, args.ts);
  const bye = async (code: number) => {
    await load.end();
    process.exit(code);
  };
  setTimeout(() => void bye(1), MAX_LIFE_MS).unref();
  say(await load.connect());
  // One command at a time, in order.
  let queue: Promise<void> = Promise.resolve();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      let cmd: { cmd?: string; tag?: string; seconds?: number; inflight?: number; rate?: number; phase?: number; ids?: boolean };
      try {
        cmd = JSON.parse(line) as typeof cmd;
      } catch {
        say({ type: 'error', error: `not JSON: ${line.slice(0, 80)}` });
        return;
      }
      const seconds = Math.min(600, Math.max(0, Number(cmd.seconds) || 0));
      if (cmd.cmd === 'closed') say(await load.closed(cmd.tag ?? 'closed', seconds, Math.min(1000, Math.max(1, Number(cmd.inflight) || 1))));
      else if (cmd.cmd === 'open') say(await load.open(seconds, Math.max(1, Number(cmd.rate) || 1), Number(cmd.phase) || 0, cmd.ids === true));
      else if (cmd.cmd === 'end') {
        await load.end();
        say({ type: 'ended', drops: load.drops });
        process.exit(0);
      } else say({ type: 'error', error: `unknown command ${String(cmd.cmd)}` });
    });
  });
  rl.on('close', () => void queue.then(() => bye(0)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`ingest-load: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
