import type { Clock } from '../core/clock.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

export interface SessionRow {
  idHash: string;
  userId: string;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
  address: string | null;
  userAgent: string | null;
}

interface Row {
  id_hash: string;
  user_id: string;
  csrf: string;
  created_at: number;
  last_seen: number;
  expires_at: number;
  address: string | null;
  user_agent: string | null;
}

const fromRow = (r: Row): SessionRow => ({
  idHash: r.id_hash,
  userId: r.user_id,
  csrf: r.csrf,
  createdAt: r.created_at,
  lastSeen: r.last_seen,
  expiresAt: r.expires_at,
  address: r.address,
  userAgent: r.user_agent,
});

/** Panel sessions. Only the SHA-256 of the cookie value is kept, so a copy of the database opens no session. */
export class SessionStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  create(s: SessionRow): Promise<void> {
    return this.exec('INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen, expires_at, address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      s.idHash,
      s.userId,
      s.csrf,
      s.createdAt,
      s.lastSeen,
      s.expiresAt,
      s.address,
      s.userAgent,
    ]);
  }

  async get(idHash: string): Promise<SessionRow | undefined> {
    const r = await this.reader.get<Row>('SELECT * FROM sessions WHERE id_hash = ?', [idHash]);
    return r ? fromRow(r) : undefined;
  }

  touch(idHash: string, lastSeen: number): Promise<void> {
    return this.exec('UPDATE sessions SET last_seen = ? WHERE id_hash = ?', [lastSeen, idHash]);
  }

  delete(idHash: string): Promise<void> {
    return this.exec('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
  }

  /** End every session of a user (disabled, password changed, role changed). */
  deleteForUser(userId: string): Promise<void> {
    return this.exec('DELETE FROM sessions WHERE user_id = ?', [userId]);
  }

  /** Drop sessions idle past `idleMs` or older than their absolute expiry. */
  purge(idleMs: number): Promise<void> {
    const now = this.clock.now();
    return this.exec('DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?', [now, now - idleMs]);
  }

  private exec(sql: string, params: unknown[]): Promise<void> {
    return this.writer.submit({ build: () => ({ statements: [{ sql, params }], result: undefined }) });
  }
}
