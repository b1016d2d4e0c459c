import type { Clock } from '../core/clock.ts';
import type { BoxHeartbeat, DeviceStatus, DeviceStatusPort, HeartbeatPort } from '../core/county.ts';
import type { DeviceHealth } from '../core/driver.ts';
import type { Db } from './db.ts';
import { outboxInsert } from './outbox.ts';
import type { Store } from './store.ts';
import type { Statement } from './writer.ts';

const MB = 1024 * 1024;
/** A year and a month: the panel's monthly reports of the past year read them (a device changes state a few times a day). */
const KEEP_TRANSITIONS_MS = 400 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * What the push side writes: box.heartbeat entries (with the loss mark moved
 * in the same commit, so "since last" never counts a row twice or misses
 * one) and device.status entries (with the transition rows the uptime
 * figures are computed from).
 */
export class CountyPushStore implements HeartbeatPort, DeviceStatusPort {
  private lastPrune = 0;

  constructor(
    private readonly store: Store,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  async enqueue(base: { uptimeSeconds: number; version: string }): Promise<BoxHeartbeat> {
    const now = this.clock.now();
    const [depth, dead, loss, marks] = await Promise.all([
      this.store.outbox.depth(),
      this.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM dead_letter'),
      this.store.budget.totals(),
      this.reader.all<{ key: string; value: number }>(`SELECT key, value FROM meta WHERE key IN ('heartbeat.shed', 'heartbeat.evicted')`),
    ]);
    const total = { shed: 0, evicted: 0 };
    for (const l of loss) total[l.cause] += l.count;
    const mark = (k: string) => marks.find((m) => m.key === k)?.value ?? 0;
    const usage = this.store.budget.usage;
    const hb: BoxHeartbeat = {
      ...base,
      lastSeq: this.store.outbox.lastSeq(),
      lanes: depth.map((d) => ({
        lane: d.lane,
        depth: d.depth,
        oldestUnsentAgeSeconds: d.oldestCreatedAt === null ? null : Math.max(0, Math.round((now - d.oldestCreatedAt) / 1000)),
      })),
      deadLetters: dead?.n ?? 0,
      disk: {
        freeMb: usage ? Math.round(usage.freeDiskBytes / MB) : null,
        dbUsedMb: usage ? +(usage.usedBytes / MB).toFixed(1) : null,
        budgetStage: usage?.stage ?? 0,
      },
      loss: {
        sinceLast: { shed: Math.max(0, total.shed - mark('heartbeat.shed')), evicted: Math.max(0, total.evicted - mark('heartbeat.evicted')) },
        total,
      },
    };
    await this.store.writer.submit({
      build: (next) => ({
        inserts: [outboxInsert({ lane: 'status', type: 'box.heartbeat', occurredAt: now, body: hb }, next('outbox'), now)],
        statements: [
          {
            sql: `INSERT INTO meta (key, value) VALUES ('heartbeat.shed', ?), ('heartbeat.evicted', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            params: [total.shed, total.evicted],
          },
        ],
        result: undefined,
      }),
    });
    return hb;
  }

  /** The state the county was last told of, per device. */
  async lastReported(): Promise<Map<string, Pick<DeviceStatus, 'online' | 'eventChannel'>>> {
    const rows = await this.reader.all<{ device_id: string; online: number | null; event_channel: DeviceHealth['eventChannel'] }>(
      `SELECT device_id, online, event_channel FROM device_transitions
       WHERE seq IN (SELECT MAX(seq) FROM device_transitions WHERE reported = 1 GROUP BY device_id)`,
    );
    return new Map(rows.map((r) => [r.device_id, { online: r.online === null ? null : r.online === 1, eventChannel: r.event_channel }]));
  }

  /** Transition rows for uptime; `report` ones also become device.status envelopes (status lane), in one commit. */
  async record(changes: readonly DeviceStatus[], report: readonly boolean[] = changes.map(() => true)): Promise<void> {
    if (changes.length === 0) return;
    const now = this.clock.now();
    const prune = now - this.lastPrune > PRUNE_EVERY_MS;
    if (prune) this.lastPrune = now;
    await this.store.writer.submit({
      build: (next) => {
        const statements: Statement[] = changes.map((c, i) => ({
          sql: 'INSERT INTO device_transitions (device_id, at, online, event_channel, reported) VALUES (?, ?, ?, ?, ?)',
          params: [c.deviceId, c.at, c.online === null ? null : c.online ? 1 : 0, c.eventChannel, report[i] ? 1 : 0],
        }));
        if (prune)
          statements.push({
            // Older than what reports read, except each device's latest such row (the state it entered the kept span in).
            sql: `DELETE FROM device_transitions WHERE at < ? AND seq NOT IN (SELECT MAX(seq) FROM device_transitions WHERE at < ? GROUP BY device_id)`,
            params: [now - KEEP_TRANSITIONS_MS, now - KEEP_TRANSITIONS_MS],
          });
        const inserts = changes
          .filter((_, i) => report[i])
          .map((c) => outboxInsert({ lane: 'status', type: 'device.status', occurredAt: c.at, body: c }, next('outbox'), now));
        return { statements, inserts, result: undefined };
      },
    });
  }
}
