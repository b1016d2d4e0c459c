/**
 * Misbehaving devices, for fault tests and `--fault`: malformed payloads, floods, unclean
 * disconnects, silence. Everything here is bounded in count and in time.
 */
import { loadEvent } from './behaviour.ts';
import type { SimDevice } from './device.ts';
import { errorMessage, formatMs, pick, Timers } from './util.ts';

export const BAD_PAYLOAD_KINDS = ['not-json', 'not-object', 'wrong-shape', 'oversized', 'foreign-topic'] as const;
export type BadPayloadKind = (typeof BAD_PAYLOAD_KINDS)[number];

export const FAULT_MODES = ['bad-payloads', 'flood', 'unclean-disconnects', 'silence'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** Most messages one flood may send, and the longest it may take. */
export const MAX_FLOOD_COUNT = 100_000;
const FLOOD_TIME_LIMIT_MS = 60_000;
const FLOOD_BATCH = 100;

/** The contract's JSON payload limit (16 KiB); `oversized` goes past it, still under the broker's 64 KiB. */
export const CONTRACT_PAYLOAD_LIMIT = 16 * 1024;

export interface BadMessage {
  topic: string;
  payload: string;
  qos: 0 | 1;
}

/**
 * One malformed message from `device`: not JSON, a JSON array, an event of the wrong shape, a
 * payload over 16 KiB, or a publish on another device's topic (`otherId`, else a topic outside the
 * contract). QoS 1 on the device's own topic (the box acknowledges rejects); QoS 0 on a foreign topic.
 */
export function badMessage(device: SimDevice, kind: BadPayloadKind, seq: number, otherId?: string): BadMessage {
  const t = device.topics;
  const id = `${device.id}-bad-${seq}`;
  switch (kind) {
    case 'not-json':
      return { topic: t.event, payload: `{"id": "${id}", "type": "door", "state": `, qos: 1 };
    case 'not-object':
      return { topic: t.event, payload: JSON.stringify([id, 'door', 'opened']), qos: 1 };
    case 'wrong-shape': {
      const bodies: Record<string, unknown>[] = [
        { id, type: 'zone', zone: 'four', zoneType: 'perimeter', state: 'alarm' },
        { id, type: 'door', state: 'ajar' },
        { id, type: 'no_such_type' },
        { id: 12345, type: 'heartbeat' },
        { type: 'sos', state: 'pressed' },
      ];
      return { topic: t.event, payload: JSON.stringify(bodies[seq % bodies.length]), qos: 1 };
    }
    case 'oversized':
      return { topic: t.event, payload: JSON.stringify({ id, type: 'heartbeat', pad: 'x'.repeat(CONTRACT_PAYLOAD_LIMIT + 1024) }), qos: 1 };
    case 'foreign-topic':
      return {
        topic: otherId && otherId !== device.id ? `sw/v1/${otherId}/event` : `sw/v1/${device.id}/not-a-topic`,
        payload: JSON.stringify({ id, type: 'heartbeat' }),
        qos: 0,
      };
  }
}

/** Publishes one bad message; resolves when sent (and PUBACKed for QoS 1), never rejects. */
export async function sendBadPayload(device: SimDevice, kind: BadPayloadKind, seq: number, otherId?: string): Promise<boolean> {
  const m = badMessage(device, kind, seq, otherId);
  try {
    await device.publishRaw(m.topic, m.payload, { qos: m.qos, timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
}

export interface FloodResult {
  sent: number;
  acked: number;
  failed: number;
  ms: number;
}

/**
 * `count` messages from one device as fast as the broker acknowledges them (batches of 100 in
 * flight): valid events, bad payloads, or a mix (1 in 10 bad). Stops after 60 s whatever is left.
 */
export async function flood(
  device: SimDevice,
  count: number,
  payload: 'valid' | 'bad' | 'mixed' = 'valid',
  random: () => number = Math.random,
): Promise<FloodResult> {
  const n = Math.min(Math.max(0, Math.floor(count)), MAX_FLOOD_COUNT);
  const started = performance.now();
  const res: FloodResult = { sent: 0, acked: 0, failed: 0, ms: 0 };
  const badKinds = BAD_PAYLOAD_KINDS.filter((k) => k !== 'foreign-topic');
  while (res.sent < n && performance.now() - started < FLOOD_TIME_LIMIT_MS) {
    const batch: Promise<boolean>[] = [];
    for (let i = 0; i < FLOOD_BATCH && res.sent < n; i++, res.sent++) {
      const bad = payload === 'bad' || (payload === 'mixed' && res.sent % 10 === 9);
      batch.push(
        bad
          ? sendBadPayload(device, pick(badKinds, random), res.sent)
          : device.publishEvent(loadEvent(device.spec, random)).then(
              () => true,
              () => false,
            ),
      );
    }
    const results = await Promise.all(batch.map((p) => Promise.race([p, timeoutFalse(10_000)])));
    for (const ok of results) {
      if (ok) res.acked++;
      else res.failed++;
    }
  }
  res.ms = performance.now() - started;
  return res;
}

function timeoutFalse(ms: number): Promise<boolean> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms).unref());
}

export interface FaultOptions {
  log: (line: string) => void;
  random?: () => number;
  /** How many rounds at most (default per mode). */
  rounds?: number;
  /** Pause between rounds, ms (default per mode). */
  intervalMs?: number;
}

export interface FaultRun {
  readonly mode: FaultMode;
  readonly done: Promise<void>;
  stop(): void;
}

const DEFAULTS: Record<FaultMode, { rounds: number; intervalMs: number }> = {
  'bad-payloads': { rounds: 100, intervalMs: 2000 },
  flood: { rounds: 5, intervalMs: 20_000 },
  'unclean-disconnects': { rounds: 20, intervalMs: 10_000 },
  silence: { rounds: 5, intervalMs: 30_000 },
};

/**
 * Runs one fault mode against the estate's devices, a bounded number of rounds:
 * - bad-payloads: one malformed message (cycling through the kinds) from a random device per round;
 * - flood: 1000 messages (1 in 10 bad) from one random device per round;
 * - unclean-disconnects: a random device drops its connection (the will fires) and is back 5 s later;
 * - silence: a random device goes silent for 2 minutes (connected, no heartbeats, no answers).
 */
export function startFault(devices: readonly SimDevice[], mode: FaultMode, opts: FaultOptions): FaultRun {
  const timers = new Timers();
  const random = opts.random ?? Math.random;
  const rounds = opts.rounds ?? DEFAULTS[mode].rounds;
  const intervalMs = opts.intervalMs ?? DEFAULTS[mode].intervalMs;
  const log = opts.log;
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const candidates = () => devices.filter((d) => d.connected);

  const round = (i: number): void => {
    const live = candidates();
    if (live.length === 0) {
      log(`fault ${mode}: round ${i + 1}: no device online, skipped`);
      return;
    }
    const d = pick(live, random);
    switch (mode) {
      case 'bad-payloads': {
        const kind = BAD_PAYLOAD_KINDS[i % BAD_PAYLOAD_KINDS.length] ?? 'not-json';
        const other = devices.find((x) => x.id !== d.id)?.id;
        log(`fault bad-payloads: ${d.id} sends ${kind} (${i + 1}/${rounds})`);
        track(sendBadPayload(d, kind, i, other));
        return;
      }
      case 'flood':
        log(`fault flood: ${d.id} floods 1000 messages (${i + 1}/${rounds})`);
        track(
          flood(d, 1000, 'mixed', random).then((r) => log(`fault flood: ${d.id} sent ${r.sent}, acked ${r.acked}, failed ${r.failed} in ${formatMs(r.ms)}`)),
        );
        return;
      case 'unclean-disconnects':
        log(`fault unclean-disconnects: ${d.id} drops its connection (${i + 1}/${rounds})`);
        track(
          d.disconnectUncleanly().then(async () => {
            await timers.sleep(5000);
            await d.reconnect().catch((err: unknown) => log(`fault unclean-disconnects: ${d.id} did not come back: ${errorMessage(err)}`));
          }),
        );
        return;
      case 'silence':
        log(`fault silence: ${d.id} goes silent for 2m (${i + 1}/${rounds})`);
        d.goSilent(true);
        timers.after(120_000, () => d.goSilent(false));
        return;
    }
  };

  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let i = 0;
  const next = () => {
    if (timers.closed) return;
    if (i >= rounds) {
      void Promise.allSettled([...pending]).then(() => {
        log(`fault ${mode}: done (${rounds} rounds)`);
        finish();
      });
      return;
    }
    round(i++);
    timers.after(intervalMs, next);
  };
  timers.after(Math.min(intervalMs, 2000), next);

  return {
    mode,
    done,
    stop() {
      if (mode === 'silence') for (const d of devices) if (d.silent) d.goSilent(false);
      timers.close();
      finish();
    },
  };
}
