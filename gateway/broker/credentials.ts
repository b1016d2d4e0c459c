import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { ScryptHash } from '../../config/schema/secret.ts';
import type { Principal } from '../core/mqtt.ts';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem?: number }) => Promise<Buffer>;

/**
 * Device and bridge credentials, kept only as salted scrypt hashes from the
 * moment they are loaded. Cost is modest (N=4096, ~5 ms on the thread pool)
 * because device secrets are long random strings and 500 devices reconnect
 * at once after a power cut.
 */
const PARAMS = { N: 4096, r: 8, p: 1 };

export interface Account {
  principal: Principal;
  /** The password itself, or… */
  password?: string;
  /** …its scrypt hash, when the site file holds only that. */
  hash?: ScryptHash;
  enabled: boolean;
  bridgeBase?: string;
}

interface Entry {
  principal: Principal;
  salt: Buffer;
  params: { N: number; r: number; p: number };
  hash: Buffer;
  enabled: boolean;
  bridgeBase?: string;
}

export type AuthResult = { ok: true; principal: Principal; bridgeBase?: string } | { ok: false; code: 4 | 5; reason: string };

export class Credentials {
  private entries = new Map<string, Entry>();

  /** Accounts with a password (hashed here) or a scrypt hash from the site file (kept as it is). */
  static async create(accounts: readonly Account[]): Promise<Credentials> {
    const c = new Credentials();
    for (const a of accounts) {
      const salt = a.hash?.salt ?? randomBytes(16);
      c.entries.set(a.principal.id, {
        principal: a.principal,
        salt,
        params: a.hash ? { N: a.hash.N, r: a.hash.r, p: a.hash.p } : PARAMS,
        hash: a.hash?.hash ?? (await scrypt(a.password ?? '', salt, 32, PARAMS)),
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
    const params = e?.params ?? PARAMS;
    const got = await scrypt(password?.toString('utf8') ?? '', salt, e?.hash.length ?? 32, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 });
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
