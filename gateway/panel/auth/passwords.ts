import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { parseScrypt } from '../../../config/schema/secret.ts';

/**
 * Panel passwords: scrypt (N=32768, r=8, p=1: 32 MiB and roughly 0.1–0.3 s
 * on the box), run on the thread pool, stored as scrypt$N$r$p$salt$hash like
 * every other hash in Shouwang.
 */
const PARAMS = { N: 32768, r: 8, p: 1 };
const MAXMEM = 256 * PARAMS.N * PARAMS.r + 4 * 1024 * 1024;

function scrypt(password: string, salt: Buffer, len: number, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, len, { ...p, maxmem: Math.max(MAXMEM, 256 * p.N * p.r + 4 * 1024 * 1024) }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** A hash nobody's password matches: checked for unknown user names, so timing does not tell which names exist. */
const DUMMY = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;

/** Constant-time check of a password against a stored hash; null hash = unknown user (still costs one scrypt). */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  const h = parseScrypt(stored ?? DUMMY);
  if (!h) return false;
  const got = await scrypt(password, h.salt, h.hash.length, h);
  return timingSafeEqual(got, h.hash) && stored !== null;
}

const COMMON = new Set(['password', 'password1', 'password123', 'admin', 'admin123', 'administrator', 'qwerty123', 'abc123456', 'shouwang', 'letmein']);

/** Why a password is refused, or null. Length first: 10+ characters, not the user name, not a well-known one, not one repeated character. */
export function passwordProblem(password: string, username: string): 'too_short' | 'too_long' | 'like_username' | 'too_common' | null {
  if (password.length < 10) return 'too_short';
  if (password.length > 256) return 'too_long';
  const lower = password.toLowerCase();
  if (lower.includes(username.toLowerCase())) return 'like_username';
  if (COMMON.has(lower) || /^(.)\1+$/.test(password) || /^(0123456789|1234567890|12345678901|123456789012)$/.test(password)) return 'too_common';
  return null;
}
