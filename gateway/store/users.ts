import type { Clock } from '../core/clock.ts';
import { uuidv7 } from '../core/ids.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

/** Panel roles. What each may do is decided in gateway/panel/auth/roles.ts, on the server. */
export const ROLES = ['installer', 'manager', 'guard', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  createdAt: number;
  createdBy: string;
  disabled: boolean;
  failedLogins: number;
  lockedUntil: number | null;
  lastLoginAt: number | null;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  password_hash: string;
  created_at: number;
  created_by: string;
  disabled: number;
  failed_logins: number;
  locked_until: number | null;
  last_login_at: number | null;
}

const fromRow = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role,
  createdAt: r.created_at,
  createdBy: r.created_by,
  disabled: r.disabled === 1,
  failedLogins: r.failed_logins,
  lockedUntil: r.locked_until,
  lastLoginAt: r.last_login_at,
});

export class DuplicateUserError extends Error {
  constructor(readonly username: string) {
    super(`an account named "${username}" already exists`);
  }
}

/** Panel accounts (real-name), with scrypt password hashes and the failed-login counter behind the lockout. */
export class UserStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  async count(): Promise<number> {
    return (await this.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM users'))?.n ?? 0;
  }

  async create(u: { username: string; displayName: string; role: Role; passwordHash: string; createdBy: string }): Promise<User> {
    const now = this.clock.now();
    const id = uuidv7(now);
    try {
      await this.writer.submit({
        sync: 'full',
        build: () => ({
          statements: [
            {
              sql: `INSERT INTO users (id, username, display_name, role, password_hash, created_at, created_by, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
              params: [id, u.username, u.displayName, u.role, u.passwordHash, now, u.createdBy, now],
            },
          ],
          result: undefined,
        }),
      });
    } catch (err) {
      if (/UNIQUE constraint failed: users\.username/.test((err as Error).message)) throw new DuplicateUserError(u.username);
      throw err;
    }
    return (await this.byId(id))!;
  }

  async byId(id: string): Promise<User | undefined> {
    const r = await this.reader.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return r ? fromRow(r) : undefined;
  }

  /** The account and its password hash, for a login. */
  async forLogin(username: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const r = await this.reader.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return r ? { user: fromRow(r), passwordHash: r.password_hash } : undefined;
  }

  async list(): Promise<User[]> {
    return (await this.reader.all<UserRow>('SELECT * FROM users ORDER BY created_at')).map(fromRow);
  }

  /** A failed login: count it and, at `lockAfter` in a row, lock the account until `lockUntil`. Returns the new state. */
  async loginFailed(id: string, lockAfter: number, lockUntil: number): Promise<{ failedLogins: number; lockedUntil: number | null }> {
    await this.exec(
      `UPDATE users SET failed_logins = failed_logins + 1,
         locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END WHERE id = ?`,
      [lockAfter, lockUntil, id],
    );
    const u = await this.byId(id);
    return { failedLogins: u?.failedLogins ?? 0, lockedUntil: u?.lockedUntil ?? null };
  }

  async loginSucceeded(id: string): Promise<void> {
    await this.exec('UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?', [this.clock.now(), id]);
  }

  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.exec('UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = NULL WHERE id = ?', [
      passwordHash,
      this.clock.now(),
      id,
    ]);
  }

  async update(id: string, change: { role?: Role; disabled?: boolean; displayName?: string }): Promise<void> {
    const cols: [string, unknown][] = [];
    if (change.role !== undefined) cols.push(['role', change.role]);
    if (change.disabled !== undefined) cols.push(['disabled', change.disabled ? 1 : 0]);
    if (change.displayName !== undefined) cols.push(['display_name', change.displayName]);
    if (cols.length === 0) return;
    await this.exec(`UPDATE users SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`, [...cols.map(([, v]) => v), id]);
  }

  async unlock(id: string): Promise<void> {
    await this.exec('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?', [id]);
  }

  private exec(sql: string, params: unknown[]): Promise<void> {
    return this.writer.submit({ sync: 'full', build: () => ({ statements: [{ sql, params }], result: undefined }) });
  }
}

/**
 * The one-time setup link for the first account: only its SHA-256 is kept,
 * it expires, and it is spent by the account it creates.
 */
export class SetupTokenStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  /** Keep a new token (hash) and retire every earlier unused one. */
  async issue(tokenHash: string, expiresAt: number): Promise<void> {
    const now = this.clock.now();
    await this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          { sql: 'DELETE FROM setup_tokens WHERE used_at IS NULL', params: [] },
          { sql: 'INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)', params: [tokenHash, now, expiresAt] },
        ],
        result: undefined,
      }),
    });
  }

  async find(tokenHash: string): Promise<{ expiresAt: number; usedAt: number | null } | undefined> {
    const r = await this.reader.get<{ expires_at: number; used_at: number | null }>('SELECT expires_at, used_at FROM setup_tokens WHERE token_hash = ?', [
      tokenHash,
    ]);
    return r ? { expiresAt: r.expires_at, usedAt: r.used_at } : undefined;
  }

  /** Spend the token; false when it was already spent (two setups racing). */
  async spend(tokenHash: string, by: string): Promise<boolean> {
    let changed = 0;
    await this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          {
            sql: 'UPDATE setup_tokens SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL',
            params: [this.clock.now(), by, tokenHash],
            changes: (n) => (changed = n),
          },
        ],
        result: undefined,
      }),
    });
    return changed === 1;
  }
}
