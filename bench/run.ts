/**
 * Benchmark dispatcher: `npm run bench -- <name> [--json] [flags]` runs the
 * exported `main(args)` of `bench/<name>.ts`. An unknown or missing name lists
 * the benchmarks available and exits 2.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  main(args: string[]): Promise<number | void> | number | void;
}

const here = dirname(fileURLToPath(import.meta.url));

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts' && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

const [name, ...args] = process.argv.slice(2);
const names = available();
if (!name || !names.includes(name)) {
  process.stderr.write(`${name ? `unknown benchmark: ${name}\n` : ''}usage: npm run bench -- <name> [--json] [flags]\navailable: ${names.join(', ')}\n`);
  process.exit(2);
}

const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as Partial<BenchModule>;
if (typeof mod.main !== 'function') {
  process.stderr.write(`bench/${name}.ts exports no main(args)\n`);
  process.exit(2);
}
const code = await mod.main(args);
process.exitCode = typeof code === 'number' ? code : 0;
