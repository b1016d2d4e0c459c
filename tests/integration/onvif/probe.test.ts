import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeCamera } from '../../../device-drivers/onvif/index.ts';
import { startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';

/** probeCamera: what the installer panel shows when a camera is added (安装调试). */
describe('probeCamera', { timeout: 20_000 }, () => {
  let farm: CameraFarm;
  beforeAll(async () => {
    farm = await startCameras({
      cameras: [
        { id: 'cam-ok', port: 0, username: 'admin', password: 'admin-demo', ptz: true },
        { id: 'cam-skewed', port: 0, username: 'admin', password: 'admin-demo', flavour: 'hikvision', auth: 'digest-only' },
      ],
    });
    farm.camera('cam-skewed').faults.clockSkewMs = -2 * 3600_000;
    farm.camera('cam-skewed').auth.lockout = { after: 3, forMs: 600_000 };
  });
  afterAll(() => farm.stop());

  it('reports device information, profiles, a snapshot, the clock offset and a working event subscription', async () => {
    const cam = farm.camera('cam-ok');
    const r = await probeCamera({ host: '127.0.0.1', port: cam.port, username: 'admin', password: 'admin-demo' });
    expect(r).toMatchObject({
      ok: true,
      reachable: true,
      loginOk: true,
      ptz: true,
      device: { manufacturer: 'Shouwang Sim', model: 'SW-PTZ-4MP' },
      events: { ok: true, initialStates: 4, detail: null },
      clock: { skewed: false, thresholdMs: 5000, dateTimeType: 'NTP' },
      problems: [],
    });
    expect(Math.abs(r.clock!.offsetMs)).toBeLessThan(1000);
    expect(r.profiles.map((p) => [p.token, p.width, p.height])).toEqual([
      ['Profile_1', 2560, 1440],
      ['Profile_2', 640, 360],
    ]);
    expect([...r.snapshot!.bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(cam.activeSubscriptions).toBe(0); // the test subscription was removed
  });

  it('flags a skewed clock, and stops at the first refused login (never locks the account)', async () => {
    const cam = farm.camera('cam-skewed');
    const good = await probeCamera({ host: '127.0.0.1', port: cam.port, username: 'admin', password: 'admin-demo' });
    expect(good.ok).toBe(true);
    expect(good.clock).toMatchObject({ skewed: true });
    expect(Math.abs(good.clock!.offsetMs + 2 * 3600_000)).toBeLessThan(1000);
    expect(good.problems).toEqual([expect.stringContaining('off by -7200 s')]);
    const failuresBefore = cam.auth.stats.failures;
    for (let i = 0; i < 2; i++) {
      const bad = await probeCamera({ host: '127.0.0.1', port: cam.port, username: 'admin', password: 'guess' });
      expect(bad).toMatchObject({ ok: false, reachable: true, loginOk: false, device: null, snapshot: null });
      expect(bad.problems.at(-1)).toMatch(/refused user "admin".*not locked/);
    }
    expect(cam.auth.stats.failures - failuresBefore).toBe(2); // one per probe
    expect(cam.auth.lockedOut).toBe(false);
  });

  it('says what to check when nothing answers', async () => {
    const r = await probeCamera({ host: '127.0.0.1', port: 9, username: 'admin', password: 'x', timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reachable: false, loginOk: null });
    expect(r.problems).toEqual([expect.stringMatching(/cannot reach 127\.0\.0\.1:9 .*ONVIF is enabled/)]);
  });
});
