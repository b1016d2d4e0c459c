/** How the box runs the gateway, for the benchmarks that measure it so: the compiled build and the production start. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What the compiled build (`npm run build`, tsconfig.build.json) is made from: a newer file here means dist/ is stale. */
const BUILD_INPUTS = [
  'config',
  'gateway',
  'device-drivers',
  'cloud-bridge',
  'simulators',
  'bench/_onvif-gateway.ts',
  'bench/_ingest-gateway.ts',
  'bench/_ingest-load.ts',
  'bench/_memory-peaks.ts',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
];

function newest(path: string): { file: string; mtimeMs: number } {
  const st = statSync(path);
  if (!st.isDirectory()) return { file: path, mtimeMs: st.mtimeMs };
  let best = { file: path, mtimeMs: 0 };
  for (const name of readdirSync(path)) {
    const n = newest(join(path, name));
    if (n.mtimeMs > best.mtimeMs) best = n;
  }
  return best;
}

export interface BuildState {
  /** `up to date`: dist/ was newer than every source; `built`: it was missing or stale and was built now. */
  state: 'up to date' | 'built';
  /** Why it was built (the newest source file, or dist/ missing), or how old dist/ is. */
  why: string;
  /** Time spent building (0 when up to date). */
  ms: number;
}

/**
 * The gateway runs from dist/ (compiled JavaScript, as on the box): build it first with `npm run build`
 * when dist/ is missing or older than any source it is made from. Progress and compiler output go to stderr.
 */
export function ensureBuild(root: string): BuildState {
  const stamp = join(root, 'dist', 'gateway', 'main.js');
  const src = BUILD_INPUTS.map((p) => join(root, p))
    .filter(existsSync)
    .map(newest)
    .reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : null;
  if (built !== null && built >= src.mtimeMs)
    return { state: 'up to date', why: `dist/ built ${Math.round((Date.now() - built) / 60_000)} min ago, newer than every source`, ms: 0 };
  const why = built === null ? 'dist/ was missing' : `dist/ was older than ${relative(root, src.file)}`;
  process.stderr.write(`building the gateway (npm run build): ${why}\n`);
  const t0 = performance.now();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  return { state: 'built', why, ms: Math.round(performance.now() - t0) };
}

/**
 * The production start (`npm run serve`, the one place it is written): its environment (glibc malloc settings)
 * and node flags. The benchmarks start the gateway with the same ones.
 */
export function productionStart(root: string): { env: Record<string, string>; flags: string[] } {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const serve = scripts.serve;
  if (!serve) throw new Error('package.json has no "serve" script (the production start)');
  const words = serve.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [k, ...v] = words.shift()!.split('=');
    env[k!] = v.join('=');
  }
  if (words[0] !== 'node') throw new Error(`the "serve" script should be [NAME=value ...] node ...: ${serve}`);
  const end = words.findIndex((w, i) => i > 0 && !w.startsWith('--'));
  return { env, flags: words.slice(1, end === -1 ? words.length : end) };
}
