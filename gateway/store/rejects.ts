import type { Reject } from '../core/driver.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

export interface StoredReject extends Reject {
  seq: number;
  at: number;
}

/**
 * Device payloads that could not be understood, kept (bounded by retention)
 * with their device id so an installer can see what a device sends. Counted
 * per device; written without fsync: they are diagnosis, not evidence.
 */
export class RejectStore {
  readonly counts = new Map<string, number>();

  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  async add(r: Reject): Promise<void> {
    const key = r.deviceId ?? '?';
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const at = this.clock.now();
    await this.writer.submit({
      build: () => ({
        statements: [
          {
            sql: 'INSERT INTO rejects (at, device_id, source, reason, excerpt) VALUES (?, ?, ?, ?, ?)',
            params: [at, r.deviceId, r.source, r.reason.slice(0, 512), r.excerpt?.slice(0, 1024) ?? null],
          },
        ],
        result: undefined,
      }),
    });
  }

  async recent(limit = 100, deviceId?: string): Promise<StoredReject[]> {
    const rows = await this.reader.all<{ seq: number; at: number; device_id: string | null; source: string; reason: string; excerpt: string | null }>(
      deviceId ? 'SELECT * FROM rejects WHERE device_id = ? ORDER BY seq DESC LIMIT ?' : 'SELECT * FROM rejects ORDER BY seq DESC LIMIT ?',
      deviceId ? [deviceId, limit] : [limit],
    );
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      deviceId: r.device_id,
      source: r.source,
      reason: r.reason,
      ...(r.excerpt !== null ? { excerpt: r.excerpt } : {}),
    }));
  }
}
