import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../gateway/app.ts';
import { DB_NAME } from '../../../gateway/store/store.ts';
import { startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';
import { silentLog, tempDir } from '../../helpers/store.ts';
import { cameraSite, until } from './helpers.ts';

function query<T>(file: string, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(sql, (e, rows) => db.close(() => (e ? reject(e) : resolve(rows as T[]))));
    });
  });
}

/** The whole gateway with simulated cameras: events land in SQLite, commands reach the cameras, snapshots land beside the database. */
describe('the gateway with ONVIF cameras', { timeout: 30_000 }, () => {
  let farm: CameraFarm;
  let app: App;
  const t = tempDir('shouwang-gw-cam-');

  beforeAll(async () => {
    farm = await startCameras({
      cameras: [
        { id: 'cam-gate', port: 0, username: 'admin', password: 'admin-demo', ptz: true },
        { id: 'cam-wall', port: 0, username: 'admin', password: 'admin-demo', flavour: 'dahua' },
      ],
    });
    const config = cameraSite(farm.cameras.map((c) => ({ id: c.id, port: c.port, ptz: c.spec.ptz ?? false })));
    app = new App({ config, dataDir: t.dir, log: silentLog, version: 'test', httpPort: 0, brokerPort: 0 });
    await app.start();
    await until('both subscribed', () => app.onvif.activeSubscriptions() === 2);
  });
  let stopped = false;
  afterAll(async () => {
    if (!stopped) await app?.stop();
    await farm?.stop();
    t.cleanup();
  });

  it('stores camera events with the device’s grid, the camera time and the receive time', async () => {
    farm.camera('cam-wall').emit({ type: 'intrusion', active: true, rule: '东侧围墙' });
    const file = join(t.dir, DB_NAME);
    let rows: { kind: string; active: number; grid: string; device_time: number; received_at: number; clock_trusted: number; attrs: string }[] = [];
    await until('intrusion stored', () => {
      void query<(typeof rows)[number]>(file, "SELECT * FROM events WHERE device_id = 'cam-wall' AND kind = 'intrusion' AND active = 1").then(
        (r) => (rows = r),
      );
      return rows.length === 1;
    });
    expect(rows[0]).toMatchObject({ grid: '320602001001-01', clock_trusted: 1, attrs: JSON.stringify({ rule: '东侧围墙' }) });
    expect(Math.abs(rows[0]!.received_at - rows[0]!.device_time)).toBeLessThan(2000);
    expect(app.onvif.health().map((h) => [h.deviceId, h.reachable, h.eventChannel])).toEqual([
      ['cam-gate', true, 'alive'],
      ['cam-wall', true, 'alive'],
    ]);
  });

  it('runs a snapshot command: the picture is a file beside the database, found by the command', async () => {
    const cmd = await app.commands.run({ deviceId: 'cam-gate', action: 'snapshot', requestedBy: 'guard-wang', reason: '核实北门警情', ttlMs: 10_000 });
    expect(cmd.status).toBe('succeeded');
    const [rec] = await app.snapshots.forCommand(cmd.id);
    expect(rec).toMatchObject({ deviceId: 'cam-gate', contentType: 'image/jpeg', reason: '核实北门警情' });
    expect(rec!.path.startsWith(join(t.dir, 'snapshots'))).toBe(true);
    expect(readFileSync(rec!.path).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const audit = await query<{ action: string; outcome: string }>(join(t.dir, DB_NAME), "SELECT action, outcome FROM audit WHERE action = 'command.snapshot'");
    expect(audit.map((a) => a.outcome)).toEqual(['requested', expect.stringMatching(/^succeeded/)]);
  });

  it('moves a PTZ camera to a preset, and refuses one on a fixed camera with a reason', async () => {
    const ok = await app.commands.run({
      deviceId: 'cam-gate',
      action: 'ptz_preset',
      params: { preset: 2 },
      requestedBy: 'rule:perimeter-linkage',
      reason: '联动',
      ttlMs: 10_000,
    });
    expect(ok.status).toBe('succeeded');
    expect(farm.camera('cam-gate').ptzPreset).toBe('2');
    const no = await app.commands.run({
      deviceId: 'cam-wall',
      action: 'ptz_preset',
      params: { preset: 1 },
      requestedBy: 'guard-wang',
      reason: 'x',
      ttlMs: 10_000,
    });
    expect(no).toMatchObject({ status: 'failed', outcome: expect.stringContaining('not a PTZ camera') });
    const bad = await app.commands.run({ deviceId: 'cam-gate', action: 'unlock', requestedBy: 'guard-wang', reason: 'x', ttlMs: 10_000 });
    expect(bad).toMatchObject({ status: 'failed', outcome: 'a camera cannot unlock' });
  });

  it('unsubscribes from every camera when the gateway stops', async () => {
    await app.stop();
    stopped = true;
    expect(farm.cameras.map((c) => c.activeSubscriptions)).toEqual([0, 0]);
    expect(existsSync(join(t.dir, 'snapshots'))).toBe(true);
  });
});
