import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { SessionStore } from '../../store/sessions.ts';
import type { User, UserStore } from '../../store/users.ts';

export interface ActiveSession {
  idHash: string;
  user: User;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
const TOUCH_EVERY_MS = 60_000;
const CACHE_MS = 5_000;

/**
 * Sessions: a random 256-bit cookie value (only its hash is stored), a CSRF
 * token per session, an idle timeout and an absolute lifetime. Resolved
 * sessions are cached for a few seconds; logout, disabling an account or a
 * password change end them at once.
 */
export class Sessions {
  private cache = new Map<string, { s: ActiveSession; at: number }>();
  private lastTouch = new Map<string, number>();

  constructor(
    private readonly store: SessionStore,
    private readonly users: UserStore,
    private readonly clock: Clock,
    private readonly o: { idleMs: number; maxMs: number },
  ) {}

  async create(user: User, meta: { address: string | null; userAgent: string | null }): Promise<{ cookie: string; session: ActiveSession }> {
    const cookie = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const row = {
      idHash: sha256(cookie),
      userId: user.id,
      csrf: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeen: now,
      expiresAt: now + this.o.maxMs,
      address: meta.address,
      userAgent: meta.userAgent?.slice(0, 200) ?? null,
    };
    await this.store.create(row);
    await this.store.purge(this.o.idleMs).catch(() => {});
    return { cookie, session: { idHash: row.idHash, user, csrf: row.csrf, createdAt: now, expiresAt: row.expiresAt } };
  }

  /** The live session for a cookie value, or null (unknown, idle too long, expired, account disabled). */
  async resolve(cookie: string | undefined): Promise<ActiveSession | null> {
    if (!cookie || cookie.length > 100) return null;
    const idHash = sha256(cookie);
    const now = this.clock.now();
    const cached = this.cache.get(idHash);
    if (cached && now - cached.at < CACHE_MS && cached.s.expiresAt > now) {
      this.touch(idHash, now);
      return cached.s;
    }
    const row = await this.store.get(idHash);
    if (!row) return null;
    const lastSeen = Math.max(row.lastSeen, this.lastTouch.get(idHash) ?? 0);
    if (row.expiresAt <= now || now - lastSeen >= this.o.idleMs) {
      await this.end(idHash);
      return null;
    }
    const user = await this.users.byId(row.userId);
    if (!user || user.disabled) {
      await this.end(idHash);
      return null;
    }
    const s: ActiveSession = { idHash, user, csrf: row.csrf, createdAt: row.createdAt, expiresAt: row.expiresAt };
    this.cache.set(idHash, { s, at: now });
    if (this.cache.size > 5000) this.cache.clear();
    this.touch(idHash, now);
    return s;
  }

  async end(idHash: string): Promise<void> {
    this.cache.delete(idHash);
    this.lastTouch.delete(idHash);
    await this.store.delete(idHash);
  }

  /** End every session of a user (disabled, role or password changed). */
  async endAll(userId: string): Promise<void> {
    for (const [k, v] of this.cache) if (v.s.user.id === userId) this.cache.delete(k);
    await this.store.deleteForUser(userId);
  }

  /** Constant-time CSRF token check. */
  static csrfMatches(session: ActiveSession, token: string | undefined): boolean {
    if (!token) return false;
    const a = Buffer.from(sha256(session.csrf));
    const b = Buffer.from(sha256(token));
    return timingSafeEqual(a, b);
  }

  private touch(idHash: string, now: number): void {
    const last = this.lastTouch.get(idHash) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.lastTouch.set(idHash, now);
    this.store.touch(idHash, now).catch(() => {});
  }
}
