import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The per-box secret salt for resident credentials (card numbers, face ids):
 * the box keeps only HMAC-SHA256(salt, credential). Created once, kept beside
 * the database (mode 0600); losing it only means old and new hashes of the
 * same card no longer match.
 */
export async function loadOrCreateSalt(dir: string): Promise<Buffer> {
  const file = join(dir, 'credential.salt');
  try {
    const salt = await readFile(file);
    if (salt.length >= 32) return salt;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: cannot read the credential salt: ${(err as Error).message}`);
  }
  const salt = randomBytes(32);
  await writeFile(file, salt, { mode: 0o600 });
  return salt;
}
