/**
 * Loading a site config: YAML or JSON, every problem reported with its path,
 * secrets resolved from the environment or files.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { crossCheck } from './crosscheck.ts';
import { compareKeys, fileOrderKey, formatPath, formatProblems, issueToProblems, type ConfigProblem } from './problems.ts';
import { SiteConfigSchema, type SiteConfig } from './schema.ts';
import { withResolveContext } from './schema/common.ts';

export type { ConfigProblem } from './problems.ts';
export { formatProblems } from './problems.ts';
export { summarize } from './summary.ts';

export type LoadResult = { ok: true; config: SiteConfig; file: string } | { ok: false; problems: ConfigProblem[]; file: string };

export type ParseResult = { ok: true; config: SiteConfig } | { ok: false; problems: ConfigProblem[] };

export interface ParseOptions {
  /** Environment for `{ env: NAME }` secrets (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Folder for relative paths (default the working directory). */
  baseDir?: string;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/** The embedded demo config used by `npm start`. */
export const DEMO_CONFIG_FILE = fileURLToPath(new URL('./demo-estate.yaml', import.meta.url));

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  readonly file: string | undefined;

  constructor(problems: ConfigProblem[], file?: string) {
    const head = `${file ?? 'config'}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    super(`${head}\n${formatProblems(problems)}`);
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = file;
  }
}

type Locate = (path: readonly PropertyKey[]) => { line: number; column: number } | undefined;

function parseWith(raw: unknown, opts: ParseOptions, locate?: Locate): ParseResult {
  const ctx = { env: opts.env ?? process.env, baseDir: path.resolve(opts.baseDir ?? process.cwd()) };
  if (raw === null || raw === undefined) {
    return {
      ok: false,
      problems: [{ path: '(root)', message: 'the config is empty', hint: 'a config needs at least site, grids and devices; see config/examples/' }],
    };
  }

  const entries: { key: number[]; problem: ConfigProblem }[] = [];
  const seen = new Set<string>();
  const add = (segments: readonly PropertyKey[], p: ConfigProblem) => {
    const id = `${p.path}\u0000${p.message}`;
    if (seen.has(id)) return;
    seen.add(id);
    const pos = locate?.(segments);
    if (pos) {
      p.line = pos.line;
      p.column = pos.column;
    }
    entries.push({ key: fileOrderKey(raw, segments), problem: p });
  };

  // Cross-reference checks over the raw object: reported even if the rest fails.
  for (const c of withResolveContext(ctx, () => crossCheck(raw, ctx))) {
    add(c.path, { path: formatPath(c.path), message: c.message, ...(c.hint ? { hint: c.hint } : {}) });
  }

  const result = withResolveContext(ctx, () => SiteConfigSchema.safeParse(raw));
  if (!result.success) {
    for (const issue of result.error.issues) {
      for (const p of issueToProblems(issue, raw, SiteConfigSchema)) {
        if (p.hint === undefined) delete p.hint;
        // unknown-key problems name the key: locate them by it
        const segs = p.path === formatPath(issue.path) ? issue.path : [...issue.path, p.path.split('.').pop() ?? ''];
        add(segs, p);
      }
    }
  }

  if (entries.length > 0) {
    entries.sort((a, b) => compareKeys(a.key, b.key));
    return { ok: false, problems: entries.map((e) => e.problem) };
  }
  if (!result.success) {
    return { ok: false, problems: [{ path: '(root)', message: 'invalid config' }] };
  }
  return { ok: true, config: result.data };
}

/** Validates an already-parsed object (tests, embedded configs). */
export function parseConfig(raw: unknown, opts: ParseOptions = {}): ParseResult {
  return parseWith(raw, opts);
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

function locator(doc: Document, counter: LineCounter): Locate {
  return (segments) => {
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) {
        const pos = counter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return undefined;
  };
}

/** Reads and validates a YAML (.yaml/.yml) or JSON (.json) config file. */
export async function loadConfigFile(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const abs = path.resolve(file);
  const name = path.basename(abs);
  let text: string;
  try {
    text = await fs.readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `config file not found: ${abs}`
        : code === 'EISDIR'
          ? `${abs} is a folder, not a config file`
          : `cannot read config file ${abs} (${code ?? String(err)})`;
    return { ok: false, file: abs, problems: [{ path: file, message, hint: "give the path of the site's YAML file, e.g. config/examples/urban-estate.yaml" }] };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM from Windows editors

  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, merge: true, prettyErrors: true });
  let raw: unknown;

  if (path.extname(abs).toLowerCase() === '.json') {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      const msg = (err as Error).message;
      const m = /line (\d+) column (\d+)/.exec(msg);
      const pos = /position (\d+)/.exec(msg);
      const lc = m ? { line: Number(m[1]), column: Number(m[2]) } : pos ? lineCol(text, Number(pos[1])) : undefined;
      const where = lc ? `${name}:${lc.line}:${lc.column}` : name;
      return {
        ok: false,
        file: abs,
        problems: [
          {
            path: where,
            message: `JSON syntax error${lc ? ` at line ${lc.line}, column ${lc.column}` : ''}: ${msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+.*$/, '')}`,
            ...(lc ? { line: lc.line, column: lc.column } : {}),
          },
        ],
      };
    }
  } else {
    const first = doc.errors[0];
    if (first) {
      const lp = first.linePos?.[0];
      const [head, ...rest] = first.message.split('\n');
      const reason = (head ?? '').replace(/ at line \d+, column \d+:?$/, '');
      const snippet = rest.join('\n').replace(/^\n+|\n+$/g, '');
      return {
        ok: false,
        file: abs,
        problems: [
          {
            path: lp ? `${name}:${lp.line}:${lp.col}` : name,
            message: `YAML syntax error${lp ? ` at line ${lp.line}, column ${lp.col}` : ''}: ${reason}`,
            ...(snippet ? { hint: snippet } : {}),
            ...(lp ? { line: lp.line, column: lp.col } : {}),
          },
        ],
      };
    }
    raw = doc.toJS({ maxAliasCount: 1000 });
  }

  const locate = doc.errors.length === 0 ? locator(doc, counter) : undefined;
  const r = parseWith(raw, { env: opts.env ?? process.env, baseDir: path.dirname(abs) }, locate);
  return r.ok ? { ok: true, config: r.config, file: abs } : { ok: false, problems: r.problems, file: abs };
}

/** Like loadConfigFile, but throws a ConfigError listing every problem. */
export async function loadConfigOrThrow(file: string, opts: LoadOptions = {}): Promise<SiteConfig> {
  const r = await loadConfigFile(file, opts);
  if (!r.ok) throw new ConfigError(r.problems, r.file);
  return r.config;
}
