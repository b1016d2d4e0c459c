import type { Command, CommandStatus } from '../core/command.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

interface CommandRow {
  id: string;
  device_id: string;
  action: Command['action'];
  params: string;
  requested_by: string;
  reason: string;
  alarm_id: string | null;
  created_at: number;
  expires_at: number;
  status: CommandStatus;
  outcome: string | null;
  completed_at: number | null;
}

const fromRow = (r: CommandRow): Command => ({
  id: r.id,
  deviceId: r.device_id,
  action: r.action,
  params: JSON.parse(r.params),
  requestedBy: r.requested_by,
  reason: r.reason,
  alarmId: r.alarm_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  status: r.status,
  outcome: r.outcome,
  completedAt: r.completed_at,
});

/** Commands and their outcomes: what the box asked of which device, for whom, and what came of it. */
export class CommandStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
  ) {}

  insert(c: Command): Promise<void> {
    return this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          {
            sql: `INSERT INTO commands (id, device_id, action, params, requested_by, reason, alarm_id, created_at, expires_at, status, outcome, completed_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            params: [
              c.id,
              c.deviceId,
              c.action,
              JSON.stringify(c.params),
              c.requestedBy,
              c.reason,
              c.alarmId,
              c.createdAt,
              c.expiresAt,
              c.status,
              c.outcome,
              c.completedAt,
            ],
          },
        ],
        result: undefined,
      }),
    });
  }

  /** Record a status change; a finished command (succeeded, failed, expired, timed out) is never reopened. */
  async update(id: string, status: CommandStatus, outcome: string | null, at: number): Promise<boolean> {
    let changed = 0;
    const done = status === 'pending' || status === 'sent' ? null : at;
    await this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          {
            sql: `UPDATE commands SET status = ?, outcome = ?, completed_at = ? WHERE id = ? AND status IN ('pending', 'sent')`,
            params: [status, outcome, done, id],
            changes: (n) => (changed = n),
          },
        ],
        result: undefined,
      }),
    });
    return changed === 1;
  }

  async get(id: string): Promise<Command | undefined> {
    const row = await this.reader.get<CommandRow>('SELECT * FROM commands WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  async recent(limit = 100, deviceId?: string): Promise<Command[]> {
    const rows = deviceId
      ? await this.reader.all<CommandRow>('SELECT * FROM commands WHERE device_id = ? ORDER BY created_at DESC LIMIT ?', [deviceId, limit])
      : await this.reader.all<CommandRow>('SELECT * FROM commands ORDER BY created_at DESC LIMIT ?', [limit]);
    return rows.map(fromRow);
  }
}
