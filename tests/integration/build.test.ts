import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, gw, gwBackground, waitForHttp, writeSiteFile } from '../helpers/cli.ts';
import { tempDir } from '../helpers/store.ts';

/**
 * The production build: `npm run build` compiles to dist/, and the box runs `node dist/gateway/main.js`
 * (plain node, no tsx). Every file the product reads beside its sources (panel UI, uPlot from
 * node_modules, the demo site) must be found from there too.
 */
const run = promisify(execFile);
const MAIN = 'dist/gateway/main.js';

describe('production build (npm run build → node dist/gateway/main.js)', { timeout: 120_000 }, () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    t = tempDir();
    await run('npm', ['run', '--silent', 'build'], { timeout: 110_000 });
  }, 120_000);
  afterAll(() => t?.cleanup());

  it('emits JavaScript with rewritten imports and no TypeScript loader', async () => {
    expect(existsSync(MAIN)).toBe(true);
    const r = await gw(['check-config', 'config/demo-estate.yaml'], process.env, 'dist');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/锦绣花园/);
    expect(r.stdout).toMatch(/demo-estate\.yaml: OK/);
    const bad = await gw(['check-config', join(t.dir, 'missing.yaml')], process.env, 'dist');
    expect(bad.code).toBe(1);
    // The version comes from the project's package.json, found above dist/ as above gateway/.
    expect((await gw(['help'], process.env, 'dist')).stdout).toMatch(/^Shouwang \(守望\) \d+\.\d+\.\d+/);
  });

  it('starts a site and serves the panel files and uPlot from dist/', async () => {
    const port = await freePort();
    const site = writeSiteFile(join(t.dir, 'site.yaml'), { boxId: 'sw-320602-078', name: '构建测试小区', port, mqttPort: await freePort() });
    const { child, output, exited } = gwBackground(['start', '--config', site, '--data', join(t.dir, 'data')], 'dist');
    try {
      const health = (await (await waitForHttp(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string; boxId: string };
      expect(health).toMatchObject({ status: 'ok', boxId: 'sw-320602-078' });
      for (const path of ['/ui/main.js', '/ui/style.css', '/ui/vendor/uPlot.iife.min.js']) {
        const r = await fetch(`http://127.0.0.1:${port}${path}`);
        expect(r.status, `${path}: ${output().slice(-500)}`).toBe(200);
        expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(100);
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
