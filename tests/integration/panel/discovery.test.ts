import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';
import { Client, eventStream, setupManager, startPanelApp, userWithRole, type PanelApp } from './helpers.ts';

let p: PanelApp;
let farm: CameraFarm;
let installer: Client;

beforeAll(async () => {
  // Two cameras nobody configured yet, answering WS-Discovery by unicast on loopback (no multicast leaves the box).
  farm = await startCameras({
    cameras: [
      { id: 'new-gate', port: 0, username: 'admin', password: 'gate-Pass-2026', name: 'IPC-Gate', location: 'north-gate', ptz: true },
      { id: 'new-lane', port: 0, username: 'admin', password: 'lane-Pass-2026', name: 'IPC-Lane' },
    ],
    discovery: { port: 0, bind: '127.0.0.1' },
  });
  p = await startPanelApp();
  installer = await userWithRole(p, await setupManager(p), 'installer', 'anzhuang');
}, 30_000);
afterAll(async () => {
  await p.stop();
  await farm.stop();
});

describe('installer: discovery and adding a camera', { timeout: 30_000 }, () => {
  it('scans, showing progress and each camera as it answers', async () => {
    const s = await eventStream(installer);
    const r = await installer.post('/api/installer/discovery', { targets: [`127.0.0.1:${farm.discovery!.port}`, '127.0.0.2-3'], timeoutMs: 600 });
    expect(r.status).toBe(202);
    expect(r.body.scan).toMatchObject({ total: 1, done: 0, finished: false });
    await s.wait('discovery', (d) => d.camera?.name === 'IPC-Gate');
    const done = await s.wait('discovery', (d) => d.finished === true);
    expect(done).toMatchObject({ done: 1, total: 1, found: 2 });
    const latest = (await installer.get('/api/installer/discovery')).body.scan;
    expect(latest.found.map((c: { host: string; port: number; configured: string | null }) => [c.host, c.port, c.configured]).sort()).toEqual(
      [
        ['127.0.0.1', farm.camera('new-gate').port, null],
        ['127.0.0.1', farm.camera('new-lane').port, null],
      ].sort(),
    );
    expect((await installer.post('/api/installer/discovery', { targets: ['camera.local'] })).body).toMatchObject({ error: 'bad_target' });
    s.close();
  });

  it('tests a camera: device, profiles, a snapshot preview, clock offset, events; a wrong password stops at the first refusal', async () => {
    const port = farm.camera('new-gate').port;
    const bad = await installer.post('/api/installer/cameras/probe', { host: '127.0.0.1', port, username: 'admin', password: 'wrong' });
    expect(bad.body.report).toMatchObject({ ok: false, reachable: true, loginOk: false });
    const r = await installer.post('/api/installer/cameras/probe', { host: '127.0.0.1', port, username: 'admin', password: 'gate-Pass-2026' });
    expect(r.body.report).toMatchObject({ ok: true, ptz: true, events: { ok: true }, clock: { skewed: false }, device: { manufacturer: 'Shouwang Sim' } });
    expect(r.body.report.snapshot.dataUrl).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(r.body.report.profiles.length).toBeGreaterThan(0);
  });

  it('adds it with grid, place and point type: the password goes to a 0600 file, the camera driver connects', async () => {
    const port = farm.camera('new-gate').port;
    const r = await installer.post('/api/installer/cameras', {
      host: '127.0.0.1',
      port,
      username: 'admin',
      password: 'gate-Pass-2026',
      name: '北门新增摄像机',
      grid: '320602001001-01',
      place: { point: 'gate' },
    });
    expect(r.status).toBe(201);
    expect(r.body.device).toEqual({ id: 'cam-01', name: '北门新增摄像机', kind: 'onvif_camera' });
    const entry = parse(readFileSync(p.file, 'utf8')).devices.find((d: { id: string }) => d.id === 'cam-01');
    expect(entry).toMatchObject({
      kind: 'onvif_camera',
      host: '127.0.0.1',
      port,
      username: 'admin',
      password: { file: 'secrets/cam-01.onvif' },
      ptz: true,
      place: { point: 'gate' },
    });
    const secret = join(dirname(p.file), 'secrets/cam-01.onvif');
    expect(readFileSync(secret, 'utf8')).toBe('gate-Pass-2026');
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    expect(readFileSync(p.file, 'utf8')).not.toContain('gate-Pass-2026');
    // The restarted camera driver logs in and subscribes.
    const until = Date.now() + 15_000;
    let status = '';
    while (Date.now() < until && status !== 'online') {
      status = (await installer.get('/api/devices')).body.devices.find((d: { id: string }) => d.id === 'cam-01')?.status;
      if (status !== 'online') await new Promise((res) => setTimeout(res, 200));
    }
    expect(status).toBe('online');
    // A second add of the same camera, or one that fails its test, changes nothing.
    expect(
      (
        await installer.post('/api/installer/cameras', {
          host: '127.0.0.1',
          port,
          username: 'admin',
          password: 'x',
          name: 'dup',
          grid: '320602001001-01',
          place: { point: 'gate' },
        })
      ).status,
    ).toBe(409);
    const lane = farm.camera('new-lane').port;
    const failed = await installer.post('/api/installer/cameras', {
      host: '127.0.0.1',
      port: lane,
      username: 'admin',
      password: 'wrong',
      name: '车道',
      grid: '320602001001-01',
      place: { point: 'gate' },
    });
    expect(failed.body).toMatchObject({ error: 'probe_failed' });
    expect(readFileSync(p.file, 'utf8')).not.toContain('车道');
  });

  it("shows a camera's current picture, taken as a recorded snapshot command on behalf of the viewer", async () => {
    const res = await fetch(`${p.base}/api/devices/cam-01/snapshot`, { headers: { cookie: installer.cookie! } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect([...Buffer.from(await res.arrayBuffer()).subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const audit = await p.app.store.audit.list({ action: 'command.snapshot' });
    expect(audit[0]).toMatchObject({ actor: 'anzhuang', target: 'cam-01', outcome: expect.stringMatching(/^succeeded/) });
    expect((await installer.get('/api/devices/door-1/snapshot')).status).toBe(404);
  });
});
