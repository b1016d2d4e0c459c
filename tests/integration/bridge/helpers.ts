import { pino } from 'pino';
import { HttpTransport, type UpstreamAuth } from '../../../cloud-bridge/push/http.ts';
import { Pusher, type PusherOptions } from '../../../cloud-bridge/push/pusher.ts';
import type { Transport } from '../../../cloud-bridge/push/wire.ts';
import { systemClock, type Clock } from '../../../gateway/core/clock.ts';
import type { Lane } from '../../../gateway/core/events.ts';
import type { NewOutboxEntry } from '../../../gateway/core/outbox.ts';
import type { Store } from '../../../gateway/store/store.ts';

export const quietLog = pino({ level: process.env.BRIDGE_TEST_LOG ?? 'silent' });

/** Poll until `cond` holds, or fail after `ms` with `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** A backlog like a real one: every `alarmEvery`-th entry an alarm, the rest access records and device status. */
export function mixedEntries(n: number, alarmEvery = 10, now = Date.now()): NewOutboxEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const lane: Lane = i % alarmEvery === 0 ? 'alarm' : i % 3 === 0 ? 'status' : 'record';
    if (lane === 'alarm')
      return {
        lane,
        type: 'alarm.opened' as const,
        occurredAt: now,
        body: { alarm: { id: `alarm-${i}`, status: 'new', countyStatus: null, changeSeq: i + 1, level: 1 }, change: { action: 'open' } },
      };
    if (lane === 'status')
      return { lane, type: 'device.status' as const, occurredAt: now, body: { deviceId: `door-${i % 7}`, online: i % 2 === 0, eventChannel: 'n/a' } };
    return { lane, type: 'event' as const, occurredAt: now, body: { kind: 'access_granted', deviceId: `door-${i % 7}`, attrs: { method: 'card' } } };
  });
}

export async function fill(store: Store, entries: readonly NewOutboxEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 1000) await store.outbox.enqueue(entries.slice(i, i + 1000));
}

export function httpTransport(
  url: string,
  auth: UpstreamAuth = { type: 'bearer', token: 'county-test-token' },
  extra: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {},
  clock: Clock = systemClock,
): HttpTransport {
  return new HttpTransport({ url, auth, timeoutMs: 2000, clock, userAgent: 'shouwang-test', ...extra });
}

export function pusher(store: Store, transport: Transport, over: Partial<PusherOptions> = {}): Pusher {
  return new Pusher({
    boxId: 'sw-320602-010',
    outbox: store.outbox,
    transport,
    clock: systemClock,
    log: quietLog,
    batchSize: 50,
    fairAfterMs: 30_000,
    pacing: { startRate: 100_000, maxRate: 100_000, slowMs: 1000 },
    backoff: { baseMs: 20, capMs: 100 },
    idlePollMs: 50,
    ...over,
  });
}

export async function outboxEmpty(store: Store): Promise<boolean> {
  return (await store.outbox.depth()).every((d) => d.depth === 0);
}
