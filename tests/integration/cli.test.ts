import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Db } from '../../gateway/store/db.ts';
import { DB_NAME } from '../../gateway/store/store.ts';
import { freePort, gw, gwBackground, waitForHttp, writeSiteFile } from '../helpers/cli.ts';
import { tempDir } from '../helpers/store.ts';

let t: ReturnType<typeof tempDir> | null = null;
afterEach(() => t?.cleanup());

function siteFile(dir: string, port: number, extra: Record<string, unknown>, mqttPort: number): string {
  const panel = {
    id: 'panel-1',
    kind: 'alarm_panel',
    name: '1号报警主机',
    grid: '320602001001-01',
    place: { point: 'perimeter' },
    password: 'panel-1-demo',
    zones: [{ number: 1, name: '东侧围墙', type: 'perimeter' }],
  };
  return writeSiteFile(join(dir, 'site.yaml'), { boxId: 'sw-320602-077', name: '测试小区', port, mqttPort, extra: { devices: [panel], ...extra } });
}

describe('gw check-config', () => {
  it('accepts the demo estate and prints its summary', async () => {
    const r = await gw(['check-config', 'config/demo-estate.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/锦绣花园/);
    expect(r.stdout).toMatch(/onvif_camera.*24/);
    expect(r.stdout).toMatch(/OK/);
  });

  it('refuses a bad file with exit 1, naming every problem by path', async () => {
    t = tempDir();
    const file = join(t.dir, 'bad.yaml');
    writeFileSync(
      file,
      stringify({
        site: { boxId: 'sw-1', name: 'x', divisionCode: '3206', kind: 'urban_estate' },
        grids: [{ code: 'g1', name: '一' }],
        devices: [
          {
            id: 'cam-1',
            kind: 'onvif_camera',
            name: 'c',
            grid: 'g1',
            place: { point: 'gate' },
            host: '192.168.1.300',
            prot: 80,
            username: 'u',
            password: 'long-enough-pw',
          },
        ],
      }),
    );
    const r = await gw(['check-config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.divisionCode: expected 12 digits \(统计用区划代码\), got "3206"/);
    expect(r.stderr).toMatch(/devices\[0\]\.host: "192\.168\.1\.300" is not an IPv4 address or host name/);
    expect(r.stderr).toMatch(/devices\[0\]\.prot: unknown key \(did you mean "port"\?\)/);
  });

  it('names a missing file', async () => {
    const r = await gw(['check-config', '/nonexistent/site.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/nonexistent\/site\.yaml/);
  });

  it('explains its usage on an unknown command', async () => {
    const r = await gw(['strat']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "strat"/);
    expect(r.stderr).toMatch(/gw start --config/);
  });
});

describe('gw start', () => {
  it('serves /healthz and /metrics, and on SIGTERM commits, closes the database and exits 0', async () => {
    t = tempDir();
    const port = await freePort();
    const data = join(t.dir, 'data');
    const run = gwBackground(['start', '--config', siteFile(t.dir, port, {}, await freePort()), '--data', data]);
    try {
      const health = (await (await waitForHttp(`http://127.0.0.1:${port}/healthz`)).json()) as { store: { lastSeq: number } };
      expect(health).toMatchObject({ status: 'ok', boxId: 'sw-320602-077', store: { budgetStage: 0, shedding: [] } });
      expect(health.store.lastSeq).toBeGreaterThanOrEqual(1); // box_started
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const name of [
        'shouwang_store_appends_total',
        'shouwang_store_commit_seconds_bucket',
        'shouwang_outbox_depth',
        'shouwang_store_loss_rows',
        'shouwang_store_bytes',
        'shouwang_rejects_total',
      ]) {
        expect(metrics).toContain(name);
      }
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/database closed/);
    const db = await Db.open(join(data, DB_NAME), { readonly: true });
    const clean = await db.get<{ value: number }>(`SELECT value FROM meta WHERE key = 'clean_shutdown'`);
    const started = await db.all<{ kind: string }>(`SELECT kind FROM events WHERE kind = 'box_started'`);
    await db.close();
    expect(clean?.value).toBe(1);
    expect(started).toHaveLength(1);
  }, 60_000);

  it('stops cleanly on one Ctrl-C that arrives twice (the terminal and the tsx wrapper both pass it on)', async () => {
    t = tempDir();
    const port = await freePort();
    const data = join(t.dir, 'data');
    const run = gwBackground(['start', '--config', siteFile(t.dir, port, {}, await freePort()), '--data', data]);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).not.toMatch(/exiting without waiting/);
    const db = await Db.open(join(data, DB_NAME), { readonly: true });
    const clean = await db.get<{ value: number }>(`SELECT value FROM meta WHERE key = 'clean_shutdown'`);
    await db.close();
    expect(clean?.value).toBe(1);
  }, 60_000);

  it('refuses to start on a bad config, listing the problems, and leaves no database behind', async () => {
    t = tempDir();
    const file = siteFile(t.dir, 8080, { panel: { host: '0.0.0.0', port: 8080 } }, 1883);
    const r = await gw(['start', '--config', file, '--data', join(t.dir, 'data')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/panel\.host: a demo config binds loopback only/);
    expect(r.stderr).toMatch(/not started/);
    expect(existsSync(join(t.dir, 'data'))).toBe(false);
  });

  it('names the port when the panel port is taken', async () => {
    t = tempDir();
    const port = await freePort();
    const first = gwBackground(['start', '--config', siteFile(t.dir, port, {}, await freePort()), '--data', join(t.dir, 'a')]);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      const second = await gw(['start', '--config', siteFile(t.dir, port, {}, await freePort()), '--data', join(t.dir, 'b')]);
      expect(second.code).toBe(1);
      expect(second.stdout + second.stderr).toMatch(new RegExp(`panel\\.port: 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
  }, 60_000);
});
