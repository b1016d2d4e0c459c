/**
 * Turning zod issues into problems an installer can act on: a config path
 * (`devices[3].host`), what was wrong with the offending value quoted, and a
 * hint (allowed values, known keys, or the field's own description).
 */
import type { z } from 'zod';
import { quote } from './schema/common.ts';
import { DEVICE_KINDS } from './schema/devices.ts';
import { DEVICE_KIND_LABELS } from './labels.ts';

export interface ConfigProblem {
  /** Config path, e.g. `devices[3].host`; `(root)` for the whole file. */
  path: string;
  message: string;
  hint?: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

export type Segment = string | number;

export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? String(seg) : `.${String(seg)}`;
  }
  return s === '' ? '(root)' : s;
}

export function getAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

// ---------------------------------------------------------------------------
// did you mean

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push(new Array<number>(b.length + 1).fill(0));
    d[i]![0] = i;
  }
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate, when close enough to be a likely typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const x = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    let score = editDistance(x, lc);
    // "camra" -> "onvif_camera": compare with each part of a compound name too
    const parts = lc.split(/[_-]/);
    if (parts.length > 1) for (const p of parts) score = Math.min(score, editDistance(x, p) + 0.5);
    // "logs" -> "logging": a long shared prefix
    let prefix = 0;
    while (prefix < x.length && prefix < lc.length && x[prefix] === lc[prefix]) prefix++;
    if (prefix >= 3 && prefix >= 0.7 * x.length) score = Math.min(score, 1.25);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(x.length / 3));
  return bestScore <= limit + 0.5 ? best : undefined;
}

// ---------------------------------------------------------------------------
// walking the schema (zod 4 internals, read-only)

interface ZodLike {
  _zod: { def: Record<string, unknown> };
  description?: string;
}

function def(s: ZodLike): Record<string, unknown> {
  return s._zod.def;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** Unwraps optional/default/pipe; collects descriptions on the way. */
function unwrap(s: ZodLike, descs: string[]): ZodLike {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    if (cur.description) descs.push(cur.description);
    const d = def(cur);
    if (WRAPPERS.has(d.type as string)) cur = d.innerType as ZodLike;
    else if (d.type === 'pipe') cur = d.in as ZodLike;
    else break;
  }
  return cur;
}

function literalOf(option: ZodLike, key: string): unknown[] {
  const shape = def(option).shape as Record<string, ZodLike> | undefined;
  const field = shape?.[key];
  if (!field) return [];
  const d = def(unwrap(field, []));
  return Array.isArray(d.values) ? (d.values as unknown[]) : [];
}

/** Picks the option of a union that fits the raw value. */
function pickOption(s: ZodLike, raw: unknown): ZodLike | undefined {
  const d = def(s);
  const options = (d.options as ZodLike[] | undefined) ?? [];
  const disc = d.discriminator as string | undefined;
  if (disc) {
    const v = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[disc] : undefined;
    return options.find((o) => literalOf(o, disc).includes(v));
  }
  if (raw && typeof raw === 'object') {
    const keys = Object.keys(raw);
    return options.find((o) => {
      const shape = def(unwrap(o, [])).shape as Record<string, unknown> | undefined;
      return shape && keys.some((k) => k in shape);
    });
  }
  return undefined;
}

export interface SchemaAt {
  schema: ZodLike;
  descriptions: string[];
}

/** The schema that governs `path` in `raw`, if it can be found. */
export function schemaAt(root: z.ZodType, raw: unknown, path: readonly PropertyKey[]): SchemaAt | undefined {
  let cur = root as unknown as ZodLike;
  let value = raw;
  let descs: string[] = [];
  const step = () => {
    descs = [];
    cur = unwrap(cur, descs);
    if (def(cur).type === 'union') {
      const o = pickOption(cur, value);
      if (!o) return false;
      cur = unwrap(o, descs);
    }
    return true;
  };
  if (!step()) return undefined;
  for (const seg of path) {
    const d = def(cur);
    if (d.type === 'object') {
      const shape = d.shape as Record<string, ZodLike>;
      const next = typeof seg === 'string' ? shape[seg] : undefined;
      if (!next) return undefined;
      cur = next;
    } else if (d.type === 'array' && typeof seg === 'number') {
      cur = d.element as ZodLike;
    } else return undefined;
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
    if (!step()) return { schema: cur, descriptions: descs };
  }
  return { schema: cur, descriptions: descs };
}

function objectKeys(s: ZodLike | undefined): string[] {
  if (!s) return [];
  const d = def(s);
  return d.type === 'object' ? Object.keys(d.shape as object) : [];
}

// ---------------------------------------------------------------------------
// issues -> problems

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `text ${quote(v)}`;
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  object: 'a mapping (key: value lines)',
  array: 'a list',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function issueToProblems(issue: z.core.$ZodIssue, raw: unknown, root: z.ZodType): ConfigProblem[] {
  const i = issue as unknown as Record<string, unknown> & { path: PropertyKey[]; message: string; code: string };
  const path = i.path;
  const where = formatPath(path);
  const value = getAt(raw, path);
  const at = () => schemaAt(root, raw, path);
  const describe = (): string | undefined => at()?.descriptions[0];

  switch (i.code) {
    case 'unrecognized_keys': {
      const keys = (i.keys as string[]) ?? [];
      const known = objectKeys(at()?.schema);
      return keys.map((k) => {
        const guess = didYouMean(k, known);
        return {
          path: formatPath([...path, k]),
          message: guess ? `unknown key (did you mean ${quote(guess)}?)` : 'unknown key',
          hint: known.length ? `keys allowed here: ${known.join(', ')}` : undefined,
        };
      });
    }
    case 'invalid_union': {
      const disc = i.discriminator as string | undefined;
      if (disc !== undefined) {
        const options = ((i.options as unknown[]) ?? []).map(String);
        const isDevice = path[0] === 'devices' && disc === 'kind';
        const what = isDevice ? 'device kind' : disc;
        const hint = isDevice ? `valid kinds: ${DEVICE_KINDS.map((k) => `${k} (${DEVICE_KIND_LABELS[k]})`).join(', ')}` : `valid values: ${options.join(', ')}`;
        if (value === undefined) return [{ path: where, message: `missing ${what} (required)`, hint }];
        const guess = typeof value === 'string' ? didYouMean(value, options) : undefined;
        return [
          {
            path: where,
            message: `unknown ${what} ${quote(value)}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`,
            hint,
          },
        ];
      }
      if (value === undefined) return [{ path: where, message: 'missing (required)', hint: describe() }];
      return [{ path: where, message: i.message, hint: describe() }];
    }
    case 'invalid_type': {
      const expected = String(i.expected);
      if (value === undefined) return [{ path: where, message: 'missing (required)', hint: describe() }];
      let hint = describe();
      if (expected === 'string' && typeof value === 'number') hint = `put the value in quotes. ${hint ?? ''}`.trim();
      if (expected === 'number' && typeof value === 'string') hint = `write numbers without quotes. ${hint ?? ''}`.trim();
      if (value === null) return [{ path: where, message: `no value given; expected ${EXPECTED[expected] ?? expected}`, hint }];
      return [{ path: where, message: `expected ${EXPECTED[expected] ?? expected}, got ${typeName(value)}`, hint }];
    }
    case 'invalid_value': {
      const values = ((i.values as unknown[]) ?? []).map((v) => String(v));
      if (value === undefined) {
        return [{ path: where, message: `missing (required): one of ${values.join(', ')}`, hint: describe() }];
      }
      if (values.length === 1) return [{ path: where, message: `expected ${quote(values[0])}, got ${quote(value)}` }];
      const guess = typeof value === 'string' ? didYouMean(value, values) : undefined;
      return [
        {
          path: where,
          message: `${quote(value)} is not one of ${values.join(', ')}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`,
          hint: describe(),
        },
      ];
    }
    case 'too_small':
    case 'too_big': {
      const small = i.code === 'too_small';
      const bound = Number(small ? i.minimum : i.maximum);
      const inclusive = i.inclusive !== false;
      const origin = String(i.origin);
      let message: string;
      if (origin === 'number' || origin === 'int' || origin === 'bigint') {
        message = small
          ? `must be ${inclusive ? 'at least' : 'more than'} ${bound}, got ${quote(value)}`
          : `must be ${inclusive ? 'at most' : 'less than'} ${bound}, got ${quote(value)}`;
      } else if (origin === 'string') {
        const len = typeof value === 'string' ? value.length : 0;
        message = small
          ? bound <= 1
            ? 'must not be empty'
            : `is too short (${len} characters, at least ${bound})`
          : `is too long (${len} characters, at most ${bound})`;
      } else if (origin === 'array') {
        const len = Array.isArray(value) ? value.length : 0;
        message = small ? `needs at least ${plural(bound, 'entry', 'entries')} (has ${len})` : `has ${len} entries, at most ${bound}`;
      } else message = i.message;
      return [{ path: where, message, hint: describe() }];
    }
    case 'custom': {
      const params = i.params as { hint?: string } | undefined;
      return [{ path: where, message: i.message, hint: params?.hint ?? describe() }];
    }
    default:
      return [{ path: where, message: i.message, hint: describe() }];
  }
}

// ---------------------------------------------------------------------------
// ordering and formatting

/** Sort key: the position of each segment among its siblings in the raw object. */
export function fileOrderKey(raw: unknown, path: readonly PropertyKey[]): number[] {
  const key: number[] = [];
  let cur = raw;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number') {
      key.push(seg);
      cur = cur[seg];
    } else if (cur && typeof cur === 'object') {
      const keys = Object.keys(cur);
      const idx = keys.indexOf(String(seg));
      key.push(idx >= 0 ? idx : keys.length + 1000);
      cur = idx >= 0 ? (cur as Record<string, unknown>)[String(seg)] : undefined;
    } else {
      key.push(1_000_000);
      cur = undefined;
    }
  }
  return key;
}

export function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** One line per problem, `path: message`, with `  hint: ...` below when there is one. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines: string[] = [];
  for (const p of problems) {
    lines.push(`${p.path}: ${p.message}${p.line !== undefined && !p.path.includes(':') ? ` (line ${p.line})` : ''}`);
    if (p.hint) lines.push(...p.hint.split('\n').map((h, n) => (n === 0 ? `  hint: ${h}` : `        ${h}`)));
  }
  return lines.join('\n');
}
