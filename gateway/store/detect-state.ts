import { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

/** An installer's maintenance flag on a device (its events are stored, no alarm is raised). */
export interface MaintenanceRow {
  deviceId: string;
  maintenance: boolean;
  actor: string;
  reason: string;
  since: number;
  /** When the flag lapses by itself (epoch ms), or null: until switched off. */
  until: number | null;
}

/**
 * What the detection engine keeps across restarts besides the alarms
 * themselves: a small key/value state (its event cursor, panel arming) and
 * the maintenance flags. Reads go through a read-only connection of its own,
 * used while the engine rebuilds; writes through the store's group-commit writer.
 */
export class DetectStateStore {
  private constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
  ) {}

  static async open(file: string, writer: GroupCommitWriter): Promise<DetectStateStore> {
    return new DetectStateStore(writer, await Db.open(file, { readonly: true }));
  }

  close(): Promise<void> {
    return this.reader.close();
  }

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.reader.get<{ value: string }>('SELECT value FROM detect_state WHERE key = ?', [key]);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  /** All entries whose key starts with `prefix`. */
  async list<T>(prefix: string): Promise<{ key: string; value: T }[]> {
    const rows = await this.reader.all<{ key: string; value: string }>('SELECT key, value FROM detect_state WHERE key >= ? AND key < ? ORDER BY key', [
      prefix,
      `${prefix}\uffff`,
    ]);
    return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as T }));
  }

  set(entries: readonly { key: string; value: unknown }[], at: number): Promise<void> {
    return this.writer.submit({
      build: () => ({
        statements: entries.map((e) => ({
          sql: 'INSERT INTO detect_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
          params: [e.key, JSON.stringify(e.value), at],
        })),
        result: undefined,
      }),
    });
  }

  async maintenance(): Promise<MaintenanceRow[]> {
    const rows = await this.reader.all<{ device_id: string; maintenance: number; actor: string; reason: string; since: number; until: number | null }>(
      'SELECT * FROM device_maintenance ORDER BY device_id',
    );
    return rows.map((r) => ({ deviceId: r.device_id, maintenance: r.maintenance === 1, actor: r.actor, reason: r.reason, since: r.since, until: r.until }));
  }

  /** Record a maintenance flag (fsynced: it decides whether alarms are raised). */
  setMaintenance(row: MaintenanceRow): Promise<void> {
    return this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          {
            sql: `INSERT INTO device_maintenance (device_id, maintenance, actor, reason, since, until) VALUES (?, ?, ?, ?, ?, ?)
                  ON CONFLICT (device_id) DO UPDATE SET maintenance = excluded.maintenance, actor = excluded.actor, reason = excluded.reason,
                  since = excluded.since, until = excluded.until`,
            params: [row.deviceId, row.maintenance ? 1 : 0, row.actor, row.reason, row.since, row.until],
          },
        ],
        result: undefined,
      }),
    });
  }

  /**
   * The last event seq received at or before `at` (0 if none): where a replay of
   * the recent past starts. Events are appended in arrival order, so receive
   * time rises with seq (give or take a clock step); a binary search on the
   * primary key costs a few dozen point reads, not a scan.
   */
  async seqBefore(at: number): Promise<number> {
    const bounds = await this.reader.get<{ lo: number | null; hi: number | null }>('SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM events');
    if (!bounds || bounds.lo === null || bounds.hi === null) return 0;
    let lo = bounds.lo;
    let hi = bounds.hi;
    const timeAt = async (seq: number) =>
      (await this.reader.get<{ seq: number; received_at: number }>('SELECT seq, received_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1', [seq]))!;
    if ((await timeAt(lo)).received_at > at) return lo - 1;
    // invariant: the event at (or after) lo was received at or before `at`
    while (lo < hi) {
      const mid = Math.floor((lo + hi + 1) / 2);
      const row = await timeAt(mid);
      if (row.received_at <= at) lo = row.seq;
      else hi = mid - 1;
    }
    return lo;
  }
}
