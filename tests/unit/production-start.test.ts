import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { productionStart } from '../../bench/_production.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the production start (npm run serve) as the benchmarks read it', () => {
  it('gives glibc malloc settings as the environment and the V8 flags as node flags, so the benchmarks start the gateway the same way', () => {
    const p = productionStart(root);
    expect(p.env).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(p.flags).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=30']);
  });
});
