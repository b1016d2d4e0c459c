import type { Clock } from '../../core/clock.ts';

/**
 * Login throttling: a per-address rate limit (attempts per minute, sliding)
 * in front of the per-account lockout the user table keeps. Unknown user
 * names get the same lockout, kept here, so the answers do not tell which
 * names exist. Memory is bounded: old entries are dropped.
 */
export class LoginGuard {
  private attempts = new Map<string, number[]>();
  private unknown = new Map<string, { failures: number; lockedUntil: number | null }>();

  constructor(
    private readonly clock: Clock,
    private readonly o: { perMinute: number; lockAfter: number; lockMs: number },
  ) {}

  /** Count an attempt from an address; false (and ms to wait) when over the limit. */
  admit(address: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.clock.now();
    const recent = (this.attempts.get(address) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.o.perMinute) {
      this.attempts.set(address, recent);
      return { ok: false, retryAfterMs: 60_000 - (now - recent[0]!) };
    }
    recent.push(now);
    this.attempts.set(address, recent);
    if (this.attempts.size > 10_000) this.prune(now);
    return { ok: true };
  }

  get lockMs(): number {
    return this.o.lockMs;
  }

  get lockAfter(): number {
    return this.o.lockAfter;
  }

  /** Lock state of a name no account has. */
  unknownLockedUntil(username: string): number | null {
    const e = this.unknown.get(username.toLowerCase());
    return e?.lockedUntil && e.lockedUntil > this.clock.now() ? e.lockedUntil : null;
  }

  unknownFailed(username: string): { failedLogins: number; lockedUntil: number | null } {
    const key = username.toLowerCase();
    const now = this.clock.now();
    const e = this.unknown.get(key) ?? { failures: 0, lockedUntil: null };
    if (e.lockedUntil !== null && e.lockedUntil <= now) {
      e.failures = 0;
      e.lockedUntil = null;
    }
    e.failures++;
    if (e.failures >= this.o.lockAfter) e.lockedUntil = now + this.o.lockMs;
    this.unknown.set(key, e);
    if (this.unknown.size > 10_000) this.prune(now);
    return { failedLogins: e.failures, lockedUntil: e.lockedUntil };
  }

  private prune(now: number): void {
    for (const [k, v] of this.attempts) if (v.every((t) => now - t >= 60_000)) this.attempts.delete(k);
    for (const [k, v] of this.unknown) if (v.lockedUntil === null || v.lockedUntil <= now) this.unknown.delete(k);
  }
}
