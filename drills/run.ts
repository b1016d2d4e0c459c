/**
 * Fault drills: `npm run drill -- <name>|all [--quick] [--json]`.
 *
 * Each drill (drills/<name>.ts, exporting `drill`) breaks something real —
 * kills the gateway, fills its disk, damages its database, storms its broker —
 * and prints PASS or FAIL with its figures. `--quick` is the short form CI
 * runs; `--json` prints one JSON line per drill for machines. Exit 1 when a
 * drill fails, 2 on a usage error.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Drill, DrillResult } from './_harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

function usage(): string {
  return `usage: npm run drill -- <name>|all [--quick] [--json]\ndrills: ${names.join(', ')}\n`;
}

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [name] = args.filter((a) => !a.startsWith('--'));
const unknownFlag = [...flags].find((f) => f !== '--quick' && f !== '--json');
if (!name || unknownFlag || (name !== 'all' && !names.includes(name))) {
  process.stderr.write(`${unknownFlag ? `unknown flag ${unknownFlag}\n` : name ? `unknown drill ${JSON.stringify(name)}\n` : ''}${usage()}`);
  process.exit(2);
}
const quick = flags.has('--quick');
const json = flags.has('--json');

function line(drillName: string, r: DrillResult, seconds: number): string {
  const pass = r.checks.every((c) => c.ok);
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k}=${v}`)
    .join('  ');
  const failed = r.checks.filter((c) => !c.ok).map((c) => `\n    FAILED: ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
  return `${pass ? 'PASS' : 'FAIL'}  ${drillName.padEnd(10)} ${seconds.toFixed(0)} s  ${figures}${failed.join('')}\n`;
}

let failures = 0;
for (const n of name === 'all' ? names : [name]) {
  const mod = (await import(pathToFileURL(join(here, `${n}.ts`)).href)) as { drill?: Drill };
  if (!mod.drill) throw new Error(`drills/${n}.ts exports no drill`);
  process.stderr.write(`drill ${n}: ${mod.drill.summary}${quick ? ' (quick)' : ''}\n`);
  const t0 = Date.now();
  let result: DrillResult;
  try {
    result = await mod.drill.run({ quick, say: (l) => process.stderr.write(`  ${n}: ${l}\n`) });
  } catch (err) {
    result = { figures: {}, checks: [{ name: 'the drill ran to the end', ok: false, detail: err instanceof Error ? err.message : String(err) }] };
  }
  const seconds = (Date.now() - t0) / 1000;
  const pass = result.checks.every((c) => c.ok);
  if (!pass) failures++;
  process.stdout.write(json ? `${JSON.stringify({ drill: n, pass, seconds: Math.round(seconds), quick, ...result })}\n` : line(n, result, seconds));
}
// exit once stdout is flushed (a pipe is written asynchronously)
process.stdout.write('', () => process.exit(failures ? 1 : 0));
