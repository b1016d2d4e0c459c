/**
 * Building blocks shared by the per-area schemas: hosts, ports, ids, paths,
 * and the resolve context (environment + config folder) that secrets and
 * relative paths are resolved against while a config is parsed.
 */
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// ---------------------------------------------------------------------------
// Resolve context: parsing is synchronous, so a module-level slot is enough.

export interface ResolveContext {
  /** Environment that `{ env: NAME }` secrets are read from. */
  env: NodeJS.ProcessEnv;
  /** Folder that relative paths (`{ file: ... }`, TLS files) are resolved against. */
  baseDir: string;
}

let current: ResolveContext | undefined;

/** The context in force (process.env and the working directory outside `withResolveContext`). */
export function resolveContext(): ResolveContext {
  return current ?? { env: process.env, baseDir: process.cwd() };
}

/** Runs `fn` (a synchronous parse) with `ctx` as the resolve context. */
export function withResolveContext<T>(ctx: ResolveContext, fn: () => T): T {
  const prev = current;
  current = ctx;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

// ---------------------------------------------------------------------------
// Value checks

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && !(p.length > 1 && p.startsWith('0')));
}

const LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  if (/^[\d.]+$/.test(s)) return false; // all digits and dots: meant as an IPv4 address
  return s.split('.').every((label) => LABEL.test(label));
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIPv4(host) && host.startsWith('127.');
}

export function quote(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? s.slice(0, 57) + '...' : s;
  } catch {
    return String(v);
  }
}

/** A device host: IPv4 address or host name. */
export function hostSchema(description: string) {
  return z
    .string()
    .superRefine((v, ctx) => {
      if (!isIPv4(v) && !isHostName(v)) {
        ctx.addIssue({ code: 'custom', message: `${quote(v)} is not an IPv4 address or host name` });
      }
    })
    .describe(description);
}

/** A listen host: IPv4, IPv6 or host name. */
export function listenHostSchema(description: string) {
  return z
    .string()
    .superRefine((v, ctx) => {
      if (!isIPv4(v) && !isHostName(v) && !net.isIPv6(v)) {
        ctx.addIssue({ code: 'custom', message: `${quote(v)} is not an IPv4 address or host name` });
      }
    })
    .describe(description);
}

export function portSchema(def: number, what: string) {
  return z.number().int().min(1).max(65535).default(def).describe(`${what} (1..65535, default ${def}).`);
}

/** Integer in [min, max] with a default. */
export function intSchema(min: number, max: number, def: number, what: string) {
  return z.number().int().min(min).max(max).default(def).describe(`${what} (${min}..${max}, default ${def}).`);
}

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{1,63}$/;

export function idSchema(description: string) {
  return z
    .string()
    .regex(ID_PATTERN, {
      error: (iss) =>
        `${quote(iss.input)} is not a valid id: use 2..64 lower-case letters, digits, "-" or "_", starting with a letter or digit (no / + #, ids appear in MQTT topics)`,
    })
    .describe(description);
}

export function nameSchema(description: string, max = 64) {
  return z.string().trim().min(1).max(max).describe(`${description} (1..${max} characters).`);
}

/**
 * A file path, relative to the config file's folder; the parsed value is the
 * absolute path. A missing file is a problem (an installer would rather hear it now).
 */
export function filePathSchema(description: string) {
  return z
    .string()
    .min(1)
    .transform((p, ctx) => {
      const abs = path.resolve(resolveContext().baseDir, p);
      if (!fs.existsSync(abs)) {
        ctx.addIssue({ code: 'custom', message: `file not found: ${quote(p)} (looked for ${abs})`, input: p });
        return z.NEVER;
      }
      return abs;
    })
    .describe(`${description} Path relative to the config file's folder; the file must exist.`);
}
