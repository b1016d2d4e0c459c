import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Clock } from '../../gateway/core/clock.ts';
import { systemClock } from '../../gateway/core/clock.ts';
import type { DeviceEvent, EventKind } from '../../gateway/core/events.ts';
import { Store, type StoreOptions } from '../../gateway/store/store.ts';

export const silentLog = pino({ level: 'silent' });

export function tempDir(prefix = 'shouwang-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const DAY = 86_400_000;

export function storeOptions(dir: string, over: Partial<StoreOptions> = {}, clock: Clock = systemClock): StoreOptions {
  return {
    dir,
    clock,
    log: silentLog,
    groupCommit: { maxBatch: 512, maxDelayMs: 2 },
    budget: {
      maxDbBytes: 1024 * 1024 * 1024,
      hardCapBytes: 1536 * 1024 * 1024,
      minFreeBytes: 1,
      retention: {
        eventsMs: 90 * DAY,
        alarmsMs: 730 * DAY,
        auditMs: 730 * DAY,
        rejectsMax: 10_000,
        outboxMs: { alarm: 30 * DAY, record: 7 * DAY, status: DAY },
      },
    },
    outbox: { maxAttempts: 5 },
    ...over,
  };
}

export function openStore(dir: string, over: Partial<StoreOptions> = {}, clock?: Clock): Promise<Store> {
  return Store.open(storeOptions(dir, over, clock));
}

/** A plausible event of a kind, for tests and benchmarks. */
export function sampleEvent(kind: EventKind, deviceId: string, now = Date.now()): DeviceEvent {
  const attrs: Record<string, unknown> =
    kind === 'zone_alarm'
      ? { zone: 3, zoneType: 'intrusion' }
      : kind === 'access_granted'
        ? { method: 'card', credentialHash: 'c2FsdGVkLWhhc2g' }
        : kind === 'generic'
          ? { topic: 'x', data: {} }
          : {};
  return {
    kind,
    deviceId,
    active: true,
    deviceTime: now - 40,
    receivedAt: now,
    clockOffsetMs: -40,
    clockTrusted: true,
    attrs,
    raw: JSON.stringify({ t: kind, zone: 3, ts: now }),
  } as DeviceEvent;
}
