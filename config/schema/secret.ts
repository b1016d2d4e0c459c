/**
 * Secrets: a plain string, `{ env: NAME }` or `{ file: path }` in the file;
 * a `Secret` instance once parsed, which never prints its value.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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

  constructor(value: string, source = 'inline') {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  /** Timing-safe comparison, for credential checks. */
  equals(candidate: string): boolean {
    const a = createHash('sha256').update(this.#value).digest();
    const b = createHash('sha256').update(candidate).digest();
    return timingSafeEqual(a, b);
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
