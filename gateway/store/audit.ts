import type { Clock } from '../core/clock.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string; // e.g. 'login', 'login_failed', 'command.unlock', 'config.change', 'alarm.accept'
  target: string | null;
  outcome: string; // 'ok', 'refused', 'failed: …'
  detail: unknown;
}

/** The audit trail: who did what to what, when, and how it ended. Fsynced: it is evidence. */
export class AuditStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  record(e: Omit<AuditEntry, 'seq' | 'at' | 'detail'> & { detail?: unknown; at?: number }): Promise<void> {
    const at = e.at ?? this.clock.now();
    return this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          {
            sql: 'INSERT INTO audit (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)',
            params: [at, e.actor, e.action, e.target, e.outcome, e.detail === undefined ? null : JSON.stringify(e.detail)],
          },
        ],
        result: undefined,
      }),
    });
  }

  async list(opts: { before?: number; limit?: number; actor?: string; action?: string } = {}): Promise<AuditEntry[]> {
    const where = ['seq < ?'];
    const params: unknown[] = [opts.before ?? Number.MAX_SAFE_INTEGER];
    if (opts.actor) {
      where.push('actor = ?');
      params.push(opts.actor);
    }
    if (opts.action) {
      where.push('action LIKE ?');
      params.push(`${opts.action}%`);
    }
    params.push(opts.limit ?? 100);
    const rows = await this.reader.all<Omit<AuditEntry, 'detail'> & { detail: string | null }>(
      `SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`,
      params,
    );
    return rows.map((r) => ({ ...r, detail: r.detail === null ? null : JSON.parse(r.detail) }));
  }
}
