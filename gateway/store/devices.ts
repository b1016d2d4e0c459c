import type { DeviceHealth } from '../core/driver.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

export type DeviceState = DeviceHealth & { updatedAt: number };

/** The last known health of each device, so the panel and the county see it across restarts. */
export class DeviceStateStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  upsert(states: readonly DeviceHealth[]): Promise<void> {
    const now = this.clock.now();
    return this.writer.submit({
      build: () => ({
        statements: states.map((s) => ({
          sql: `INSERT INTO device_state (device_id, reachable, event_channel, last_seen, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (device_id) DO UPDATE SET reachable = excluded.reachable, event_channel = excluded.event_channel,
                last_seen = COALESCE(excluded.last_seen, last_seen), detail = excluded.detail, updated_at = excluded.updated_at`,
          params: [s.deviceId, s.reachable === null ? null : s.reachable ? 1 : 0, s.eventChannel, s.lastSeen, s.detail ?? null, now],
        })),
        result: undefined,
      }),
    });
  }

  async all(): Promise<DeviceState[]> {
    const rows = await this.reader.all<{
      device_id: string;
      reachable: number | null;
      event_channel: DeviceHealth['eventChannel'];
      last_seen: number | null;
      detail: string | null;
      updated_at: number;
    }>('SELECT * FROM device_state ORDER BY device_id');
    return rows.map((r) => ({
      deviceId: r.device_id,
      reachable: r.reachable === null ? null : r.reachable === 1,
      eventChannel: r.event_channel,
      lastSeen: r.last_seen,
      ...(r.detail !== null ? { detail: r.detail } : {}),
      updatedAt: r.updated_at,
    }));
  }
}
