import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Principal } from '../core/mqtt.ts';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;

/**
 * Device and bridge credentials, kept only as salted scrypt hashes from the
 * moment they are loaded. Cost is modest (N=4096, ~5 ms on the thread pool)
 * because device secrets are long random strings and 500 devices reconnect
 * at once after a power cut.
 */
const PARAMS = { N: 4096, r: 8, p: 1 };

interface Entry {
  principal: Principal;
  salt: Buffer;
  hash: Buffer;
  enabled: boolean;
  bridgeBase?: string;
}

export type AuthResult = { ok: true; principal: Principal; bridgeBase?: string } | { ok: false; code: 4 | 5; reason: string };

export class Credentials {
  private entries = new Map<string, Entry>();

  static async create(accounts: readonly { principal: Principal; password: string; enabled: boolean; bridgeBase?: string }[]): Promise<Credentials> {
    const c = new Credentials();
    for (const a of accounts) {
      const salt = randomBytes(16);
      c.entries.set(a.principal.id, {
        principal: a.principal,
        salt,
        hash: await scrypt(a.password, salt, 32, PARAMS),
        enabled: a.enabled,
        ...(a.bridgeBase !== undefined ? { bridgeBase: a.bridgeBase } : {}),
      });
    }
    return c;
  }

  async verify(username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
    const e = username ? this.entries.get(username) : undefined;
    // Hash even for unknown names, so timing does not tell which ids exist.
    const salt = e?.salt ?? Buffer.alloc(16);
    const got = await scrypt(password?.toString('utf8') ?? '', salt, 32, PARAMS);
    if (!e) return { ok: false, code: 5, reason: `unknown user ${JSON.stringify(username ?? '')}: not a device or bridge of this site` };
    if (!timingSafeEqual(got, e.hash)) return { ok: false, code: 4, reason: `wrong password for ${username}` };
    if (!e.enabled) return { ok: false, code: 5, reason: `${username} is disabled in the site file` };
    return { ok: true, principal: e.principal, ...(e.bridgeBase !== undefined ? { bridgeBase: e.bridgeBase } : {}) };
  }

  bridgeBase(id: string): string | undefined {
    return this.entries.get(id)?.bridgeBase;
  }

  get size(): number {
    return this.entries.size;
  }
}
