import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort, waitForHttp } from '../helpers/cli.ts';
import { tempDir } from '../helpers/store.ts';

/**
 * The production build: `npm run build` compiles to dist/, and the box runs `node dist/gateway/main.js`
 * (plain node, no tsx). Every file the product reads beside its sources (panel UI, uPlot from
 * node_modules, the demo site) must be found from there too.
 */
const run = promisify(execFile);
const MAIN = 'dist/gateway/main.js';

function node(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('production build (npm run build → node dist/gateway/main.js)', { timeout: 120_000 }, () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    t = tempDir();
    await run('npm', ['run', '--silent', 'build'], { timeout: 110_000 });
  }, 120_000);
  afterAll(() => t?.cleanup());

  it('emits JavaScript with rewritten imports and no TypeScript loader', async () => {
    expect(existsSync(MAIN)).toBe(true);
    const r = await node([MAIN, 'check-config', 'config/demo-estate.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/锦绣花园/);
    expect(r.stdout).toMatch(/demo-estate\.yaml: OK/);
    const bad = await node([MAIN, 'check-config', join(t.dir, 'missing.yaml')]);
    expect(bad.code).toBe(1);
    // The version comes from the project's package.json, found above dist/ as above gateway/.
    expect((await node([MAIN, 'help'])).stdout).toMatch(/^Shouwang \(守望\) \d+\.\d+\.\d+/);
  });

  it('starts a site and serves the panel files and uPlot from dist/', async () => {
    const port = await freePort();
    const site = join(t.dir, 'site.yaml');
    writeFileSync(
      site,
      stringify({
        demo: true,
        site: { boxId: 'sw-320602-078', name: '构建测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
        grids: [{ code: '320602001001-01', name: '一网格' }],
        devices: [],
        panel: { host: '127.0.0.1', port },
        broker: { host: '127.0.0.1', port: await freePort() },
      }),
    );
    const child = spawn(process.execPath, [MAIN, 'start', '--config', site, '--data', join(t.dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const health = (await (await waitForHttp(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string; boxId: string };
      expect(health).toMatchObject({ status: 'ok', boxId: 'sw-320602-078' });
      for (const path of ['/ui/main.js', '/ui/style.css', '/ui/vendor/uPlot.iife.min.js']) {
        const r = await fetch(`http://127.0.0.1:${port}${path}`);
        expect(r.status, `${path}: ${out.slice(-500)}`).toBe(200);
        expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(100);
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
