import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimClock } from './types.ts';
import { get, str, type Node } from './xml.ts';

/**
 * The camera's side of ONVIF authentication: WS-Security UsernameToken
 * (PasswordDigest, Created within a window of *camera* time, nonces not
 * replayed) and HTTP Digest (RFC 2617, qop=auth, MD5), with a lockout after
 * N consecutive failed logins like real firmware.
 */
export interface Lockout {
  /** Consecutive failures that lock the account; null: never locks. */
  after: number | null;
  forMs: number;
}

export type AuthOutcome = { ok: true } | { ok: false; why: 'missing' | 'bad' | 'stale' | 'locked' };

export interface AuthStats {
  /** Refused logins (wrong password, token outside the time window, replayed nonce). */
  failures: number;
  consecutiveFailures: number;
  lockouts: number;
  /** Refused while locked (a client that keeps trying). */
  refusedWhileLocked: number;
  digestChallenges: number;
}

const WSSE_WINDOW_MS = 5 * 60_000;
const NONCE_LIFETIME_MS = 5 * 60_000;

export class CameraAuth {
  readonly stats: AuthStats = { failures: 0, consecutiveFailures: 0, lockouts: 0, refusedWhileLocked: 0, digestChallenges: 0 };
  lockout: Lockout = { after: null, forMs: 5 * 60_000 };
  private lockedUntil = 0;
  private seenWsseNonces = new Map<string, number>();
  private digestNonces = new Map<string, { issued: number; nc: number }>();

  constructor(
    private readonly clock: SimClock,
    public username: string,
    public password: string,
    readonly realm: string,
    /** Camera time (with any configured skew). */
    private readonly cameraNow: () => number,
  ) {}

  get lockedOut(): boolean {
    return this.clock.now() < this.lockedUntil;
  }

  unlock(): void {
    this.lockedUntil = 0;
    this.stats.consecutiveFailures = 0;
  }

  /** Check a SOAP request: HTTP Digest first (as the Core spec says), then the UsernameToken. */
  check(method: string, authorization: string | undefined, header: Node | undefined, allowWsse: boolean): AuthOutcome {
    const hasDigest = authorization?.startsWith('Digest ') ?? false;
    const token = allowWsse ? get(header, 'Security', 'UsernameToken') : undefined;
    if (!hasDigest && !token) return { ok: false, why: 'missing' };
    if (this.lockedOut) {
      this.stats.refusedWhileLocked++;
      return { ok: false, why: 'locked' };
    }
    if (hasDigest) {
      const d = this.checkDigest(method, authorization!);
      if (d !== 'ok') return d === 'stale' ? { ok: false, why: 'stale' } : this.failed();
      return this.succeeded();
    }
    return this.checkToken(token!) ? this.succeeded() : this.failed();
  }

  /** Check an HTTP Digest-only resource (the snapshot). */
  checkHttp(method: string, authorization: string | undefined): AuthOutcome {
    if (!authorization?.startsWith('Digest ')) return { ok: false, why: 'missing' };
    if (this.lockedOut) {
      this.stats.refusedWhileLocked++;
      return { ok: false, why: 'locked' };
    }
    const d = this.checkDigest(method, authorization);
    if (d === 'stale') return { ok: false, why: 'stale' };
    return d === 'ok' ? this.succeeded() : this.failed();
  }

  /** A WWW-Authenticate value. The nonce is base64 with '=' padding and the realm holds a comma, as real firmware does. */
  challenge(stale = false): string {
    this.stats.digestChallenges++;
    const nonce = randomBytes(16).toString('base64');
    this.digestNonces.set(nonce, { issued: this.clock.now(), nc: 0 });
    if (this.digestNonces.size > 256) this.digestNonces.delete(this.digestNonces.keys().next().value!);
    return `Digest realm="${this.realm}", qop="auth", nonce="${nonce}", opaque="${randomBytes(4).toString('hex')}", algorithm=MD5${stale ? ', stale=true' : ''}`;
  }

  private succeeded(): AuthOutcome {
    this.stats.consecutiveFailures = 0;
    return { ok: true };
  }

  private failed(): AuthOutcome {
    this.stats.failures++;
    this.stats.consecutiveFailures++;
    if (this.lockout.after !== null && this.stats.consecutiveFailures >= this.lockout.after) {
      this.lockedUntil = this.clock.now() + this.lockout.forMs;
      this.stats.lockouts++;
    }
    return { ok: false, why: 'bad' };
  }

  private checkToken(token: Node): boolean {
    const user = str(token, 'Username');
    const digest = str(token, 'Password');
    const nonceB64 = str(token, 'Nonce');
    const created = str(token, 'Created');
    if (!user || !digest || !nonceB64 || !created) return false;
    const createdMs = Date.parse(created);
    if (!Number.isFinite(createdMs) || Math.abs(createdMs - this.cameraNow()) > WSSE_WINDOW_MS) return false;
    const now = this.clock.now();
    for (const [n, at] of this.seenWsseNonces) if (now - at > WSSE_WINDOW_MS * 2) this.seenWsseNonces.delete(n);
    if (this.seenWsseNonces.has(nonceB64)) return false; // replay
    this.seenWsseNonces.set(nonceB64, now);
    if (user !== this.username) return false;
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonceB64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(this.password, 'utf8')]))
      .digest();
    const got = Buffer.from(digest, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  }

  private checkDigest(method: string, header: string): 'ok' | 'bad' | 'stale' {
    const p = digestParams(header.slice('Digest '.length));
    const nonce = p.get('nonce');
    const known = nonce ? this.digestNonces.get(nonce) : undefined;
    if (!nonce || !known) return 'stale';
    if (this.clock.now() - known.issued > NONCE_LIFETIME_MS) {
      this.digestNonces.delete(nonce);
      return 'stale';
    }
    const nc = parseInt(p.get('nc') ?? '0', 16);
    if (p.get('qop') && !(nc > known.nc)) return 'stale'; // replayed nonce count
    known.nc = nc;
    if (p.get('username') !== this.username || p.get('realm') !== this.realm) return 'bad';
    const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
    const ha1 = md5(`${this.username}:${this.realm}:${this.password}`);
    const ha2 = md5(`${method}:${p.get('uri') ?? ''}`);
    const expected = p.get('qop') ? md5(`${ha1}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:${p.get('qop')}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    const got = Buffer.from(p.get('response') ?? '', 'utf8');
    const want = Buffer.from(expected, 'utf8');
    return got.length === want.length && timingSafeEqual(got, want) ? 'ok' : 'bad';
  }
}

/** The simulator's own reading of `k=v, k="quoted, v"` (independent of the driver's). */
function digestParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of s.matchAll(re)) out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
  return out;
}
