import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * How the county checks a box: a bearer token, or an HMAC-SHA256 signature
 * over timestamp + nonce + body with a fresh nonce per request (a replayed
 * request is refused). Written from the protocol description in
 * docs/county-api.md, not from the gateway's code.
 */
export interface AuthOptions {
  tokens?: readonly string[];
  hmacKeys?: Readonly<Record<string, string>>;
  /** A timestamp further than this from the county's clock is refused (default 5 min). */
  windowMs?: number;
}

export type AuthVerdict = { ok: true; who: string } | { ok: false; reason: string };

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest();

export class Authenticator {
  private nonces = new Map<string, number>();
  private lastPrune = 0;

  constructor(private readonly o: AuthOptions) {}

  get open(): boolean {
    return !this.o.tokens?.length && !Object.keys(this.o.hmacKeys ?? {}).length;
  }

  check(headers: IncomingHttpHeaders, body: Buffer, now = Date.now()): AuthVerdict {
    if (this.open) return { ok: true, who: 'anyone' };
    const keyId = headers['x-sw-key-id'];
    if (typeof keyId === 'string') return this.hmac(keyId, headers, body, now);
    const auth = headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ')) {
      const got = sha(auth.slice(7));
      let match = false;
      for (const t of this.o.tokens ?? []) match = timingSafeEqual(sha(t), got) || match;
      return match ? { ok: true, who: 'bearer' } : { ok: false, reason: 'unknown bearer token' };
    }
    return { ok: false, reason: 'no credentials: send Authorization: Bearer <token> or an X-SW-Signature' };
  }

  private hmac(keyId: string, h: IncomingHttpHeaders, body: Buffer, now: number): AuthVerdict {
    const secret = this.o.hmacKeys?.[keyId];
    const ts = h['x-sw-timestamp'];
    const nonce = h['x-sw-nonce'];
    const sig = h['x-sw-signature'];
    if (secret === undefined) return { ok: false, reason: `unknown key id ${JSON.stringify(keyId)}` };
    if (typeof ts !== 'string' || !/^\d{10,16}$/.test(ts)) return { ok: false, reason: 'X-SW-Timestamp missing or not epoch milliseconds' };
    if (typeof nonce !== 'string' || !/^[0-9a-f]{16,64}$/.test(nonce)) return { ok: false, reason: 'X-SW-Nonce missing or not 16..64 hex characters' };
    if (typeof sig !== 'string' || !/^[0-9a-f]{64}$/.test(sig)) return { ok: false, reason: 'X-SW-Signature missing or not 64 hex characters' };
    const window = this.o.windowMs ?? 300_000;
    if (Math.abs(now - Number(ts)) > window) return { ok: false, reason: `timestamp is ${Math.round((Number(ts) - now) / 1000)} s off the county's clock` };
    const want = createHmac('sha256', secret).update(`${ts}\n${nonce}\n`).update(body).digest();
    if (!timingSafeEqual(want, Buffer.from(sig, 'hex'))) return { ok: false, reason: 'signature does not match' };
    this.prune(now, window);
    const seen = `${keyId}:${nonce}`;
    if (this.nonces.has(seen)) return { ok: false, reason: 'replayed request: this nonce was already used' };
    this.nonces.set(seen, now + 2 * window);
    return { ok: true, who: `hmac:${keyId}` };
  }

  private prune(now: number, window: number): void {
    if (now - this.lastPrune < window / 10) return;
    this.lastPrune = now;
    for (const [n, until] of this.nonces) if (until < now) this.nonces.delete(n);
  }
}
