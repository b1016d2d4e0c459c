/**
 * Secrets: a plain string, `{ env: NAME }` or `{ file: path }` in the file;
 * a `Secret` instance once parsed, which never prints its value.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { z } from 'zod';
import { resolveContext, type ResolveContext } from './common.ts';

const REDACTED = '[secret]';

/** A resolved secret. Only `reveal()` gives the value; everything else prints "[secret]". */
export class Secret {
  readonly #value: string;
  /** Where it came from, safe to show: "inline", "env:NAME" or "file:/abs/path". */
  readonly source: string;
  /** Set when the file holds only a scrypt hash (`{ scrypt: … }`): the secret can be verified, never revealed. */
  readonly hash: ScryptHash | null;

  constructor(value: string, source = 'inline', hash: ScryptHash | null = null) {
    this.#value = value;
    this.source = source;
    this.hash = hash;
  }

  reveal(): string {
    if (this.hash) throw new Error(`this secret (${this.source}) is stored as a scrypt hash: it can be verified, not revealed`);
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [util.inspect.custom](): string {
    return REDACTED;
  }
}

/** A scrypt hash in the form `scrypt$N$r$p$<salt base64>$<hash base64>`, as `gw hash-secret` prints it. */
export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const SCRYPT_FORM = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export function parseScrypt(text: string): ScryptHash | null {
  const m = SCRYPT_FORM.exec(text);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || (N & (N - 1)) !== 0 || r < 1 || p < 1) return null;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  return salt.length >= 8 && hash.length >= 16 ? { N, r, p, salt, hash } : null;
}

/** Hash a secret for the site file (devices' MQTT passwords, county API tokens). */
export function hashSecret(secret: string, N = 4096): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, 32, { N, r: 8, p: 1 });
  return `scrypt$${N}$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export const SecretRefSchema = z.union(
  [z.string().min(1), z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }), z.strictObject({ file: z.string().min(1) })],
  {
    error: () => 'expected a secret: a plain string, { env: NAME } or { file: path }',
  },
);

export type SecretRef = z.input<typeof SecretRefSchema>;

export type SecretResolution = { ok: true; secret: Secret } | { ok: false; message: string; hint?: string };

/** Resolves one secret reference; never throws. */
export function resolveSecretRef(ref: unknown, ctx: ResolveContext = resolveContext()): SecretResolution {
  if (ref instanceof Secret) return { ok: true, secret: ref };
  if (typeof ref === 'string') return { ok: true, secret: new Secret(ref) };
  if (ref && typeof ref === 'object') {
    const r = ref as Record<string, unknown>;
    if (typeof r.env === 'string') {
      const v = ctx.env[r.env];
      if (v === undefined) {
        return {
          ok: false,
          message: `environment variable ${r.env} is not set`,
          hint: `set ${r.env} in the service's environment (e.g. the systemd unit's EnvironmentFile), or use { file: path }`,
        };
      }
      if (v === '') return { ok: false, message: `environment variable ${r.env} is empty` };
      return { ok: true, secret: new Secret(v, `env:${r.env}`) };
    }
    if (typeof r.file === 'string') {
      const abs = path.resolve(ctx.baseDir, r.file);
      let text: string;
      try {
        text = fs.readFileSync(abs, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return {
          ok: false,
          message: `cannot read secret file ${JSON.stringify(r.file)} (${code === 'ENOENT' ? 'not found' : (code ?? 'error')}, looked for ${abs})`,
          hint: "paths are relative to the config file's folder",
        };
      }
      const value = text.replace(/[\r\n]+$/, '');
      if (value === '') return { ok: false, message: `secret file ${JSON.stringify(r.file)} is empty` };
      return { ok: true, secret: new Secret(value, `file:${abs}`) };
    }
  }
  return { ok: false, message: 'expected a secret: a plain string, { env: NAME } or { file: path }' };
}

/** A secret field: accepts a SecretRef, yields a `Secret`. */
/**
 * A secret the box only has to check (an MQTT device's password, a county API token): besides the forms
 * of secretSchema it may be `{ scrypt: "scrypt$N$r$p$salt$hash" }`, so the site file holds no password.
 */
export function verifierSchema(description: string) {
  return z
    .union([z.strictObject({ scrypt: z.string() }), SecretRefSchema], {
      error: () => 'expected a secret: a plain string, { env: NAME }, { file: path } or { scrypt: hash }',
    })
    .transform((ref, ctx): Secret => {
      if (ref && typeof ref === 'object' && 'scrypt' in ref) {
        const h = parseScrypt(ref.scrypt);
        if (!h) {
          ctx.addIssue({ code: 'custom', message: 'not a scrypt hash as `npm run gw -- hash-secret` prints it (scrypt$N$r$p$salt$hash)', input: ref });
          return z.NEVER;
        }
        return new Secret('', 'scrypt', h);
      }
      const r = resolveSecretRef(ref);
      if (!r.ok) {
        ctx.addIssue({ code: 'custom', message: r.message, input: ref, params: r.hint ? { hint: r.hint } : undefined });
        return z.NEVER;
      }
      return r.secret;
    })
    .describe(
      `${description} A plain string, { env: NAME }, { file: path }, or { scrypt: hash } from \`npm run gw -- hash-secret\` (then the file holds no password).`,
    );
}

export function secretSchema(description: string) {
  return SecretRefSchema.transform((ref, ctx): Secret => {
    const r = resolveSecretRef(ref);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.message, input: ref, params: r.hint ? { hint: r.hint } : undefined });
      return z.NEVER;
    }
    return r.secret;
  }).describe(
    `${description} A plain string, { env: NAME } or { file: path } (relative to the config file's folder, trailing newline trimmed). At least 8 characters outside demo mode.`,
  );
}
