import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OnvifDriver } from '../../../device-drivers/onvif/driver.ts';
import { Db } from '../../../gateway/store/db.ts';
import { DB_NAME, type Store } from '../../../gateway/store/store.ts';
import { startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';
import { freePort, gwBackground, waitForHttp, writeSiteFile } from '../../helpers/cli.ts';
import { openStore, silentLog, tempDir } from '../../helpers/store.ts';
import { cameraSite, parked, rig, subOf, TEST_TUNING, until, type Rig } from './helpers.ts';

const t = tempDir('shouwang-onvif-takeover-');
let farm: CameraFarm | null = null;
afterAll(async () => {
  await farm?.stop();
  t.cleanup();
});

interface Row {
  kind: string;
  active: number;
  initial: number;
  source: string | null;
}

async function cameraEvents(data: string): Promise<Row[]> {
  const db = await Db.open(join(data, DB_NAME), { readonly: true });
  try {
    return await db.all<Row>("SELECT kind, active, initial, source FROM events WHERE device_id = 'cam-1' ORDER BY seq");
  } finally {
    await db.close();
  }
}

describe('a gateway killed while it holds a camera subscription', { timeout: 90_000 }, () => {
  it('takes the subscription over after the restart: no second slot on the camera, and what happened meanwhile is stored', async () => {
    farm = await startCameras({ cameras: [{ id: 'cam-1', port: 0, username: 'admin', password: 'admin-demo' }] });
    const cam = farm.camera('cam-1');
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const site = writeSiteFile(join(t.dir, 'site.yaml'), {
      boxId: 'sw-320602-012',
      name: '接管测试小区',
      port: httpPort,
      mqttPort,
      extra: {
        devices: [
          {
            id: 'cam-1',
            kind: 'onvif_camera',
            name: '东门',
            grid: '320602001001-01',
            place: { point: 'gate' },
            host: '127.0.0.1',
            port: cam.port,
            username: 'admin',
            password: 'admin-demo',
          },
        ],
      },
    });
    const data = join(t.dir, 'data');
    const start = async () => {
      const g = gwBackground(['start', '--config', site, '--data', data]);
      await waitForHttp(`http://127.0.0.1:${httpPort}/healthz`);
      return g;
    };

    let gateway = await start();
    await parked(farm, 'cam-1', 'the first run pulling', 20_000);
    expect(cam.stats.creates).toBe(1);
    gateway.child.kill('SIGKILL');
    await gateway.exited;

    // The camera notices the pull's connection close (else it would answer the dead pull with the next event,
    // which PullPoint cannot take back: a real camera loses that one too).
    await until('the camera saw the pull go away', () => subOf(farm!, 'cam-1')?.pending === null, 10_000);
    // The box is down: the camera keeps the subscription and queues what happens.
    cam.emit({ type: 'intrusion', active: true });
    cam.emit({ type: 'tamper', active: true });
    expect(cam.activeSubscriptions).toBe(1);

    gateway = await start();
    let rows: Row[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      rows = await cameraEvents(data);
      if (rows.some((r) => r.kind === 'intrusion' && r.active === 1 && r.initial === 0) && rows.some((r) => r.kind === 'tamper' && r.initial === 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.filter((r) => r.initial === 0)).toEqual([
      { kind: 'intrusion', active: 1, initial: 0, source: expect.any(String) },
      { kind: 'tamper', active: 1, initial: 0, source: expect.any(String) },
    ]);
    await parked(farm, 'cam-1', 'the second run pulling', 20_000);
    expect(cam.stats.creates).toBe(1); // taken over, not created again
    expect(cam.stats.renews).toBeGreaterThanOrEqual(1);
    expect(cam.activeSubscriptions).toBe(1);

    // A clean stop unsubscribes and leaves nothing to take over.
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(cam.activeSubscriptions).toBe(0);
    const db = await Db.open(join(data, DB_NAME), { readonly: true });
    expect(await db.all('SELECT device_id FROM camera_subscriptions')).toEqual([]);
    await db.close();
  });
});

describe('subscriptions held across runs (fake clock)', { timeout: 30_000 }, () => {
  let r: Rig | null = null;
  let store: Store | null = null;
  const dir = tempDir('shouwang-onvif-held-');
  afterEach(async () => {
    await r?.stop();
    await store?.close();
    r = null;
    store = null;
  });
  afterAll(() => dir.cleanup());

  it('keeps a subscription it could not Unsubscribe; the next run finds it gone from the rebooted camera, creates one and remembers that instead', async () => {
    store = await openStore(join(dir.dir, 'a'));
    r = await rig([{ id: 'cam-a' }], { subscriptions: store.cameraSubscriptions });
    const cam = r.farm.camera('cam-a');
    await parked(r.farm, 'cam-a');
    const first = subOf(r.farm, 'cam-a')!;
    const held = await store.cameraSubscriptions.recall();
    expect([...held.keys()]).toEqual(['cam-a']);
    expect(held.get('cam-a')!.address).toContain(`/${first.id}`);

    // Stopped while the camera is off: no Unsubscribe reached it, so the subscription stays remembered.
    await r.farm.setReachable('cam-a', false);
    await r.driver.stop();
    expect(cam.stats.unsubscribes).toBe(0);
    expect([...(await store.cameraSubscriptions.recall()).keys()]).toEqual(['cam-a']);

    // The camera reboots meanwhile and forgets it; the next run asks, is refused, and starts afresh.
    cam.dropSubscriptions('fault');
    await r.farm.setReachable('cam-a', true);
    const config = cameraSite([{ id: 'cam-a', port: cam.port }]);
    const next = new OnvifDriver({
      sink: r.sink,
      clock: r.clock,
      log: silentLog,
      devices: config.devices,
      offlineDebounceSeconds: 60,
      tuning: TEST_TUNING,
      random: () => 0,
      subscriptions: store.cameraSubscriptions,
    });
    r.driver = next;
    await next.start();
    await parked(r.farm, 'cam-a');
    expect(next.session('cam-a')!.stats).toMatchObject({ resumes: 0, creates: 1 });
    expect(cam.stats.byOperation.Renew).toBe(1); // asked once, refused: the camera no longer knows it
    const second = subOf(r.farm, 'cam-a')!;
    expect(second.id).not.toBe(first.id);
    const now = await store.cameraSubscriptions.recall();
    expect(now.get('cam-a')!.address).toContain(`/${second.id}`);
  });

  it('forgets what a previous run held on a camera that is no longer in the config', async () => {
    store = await openStore(join(dir.dir, 'b'));
    await store.cameraSubscriptions.remember({
      deviceId: 'cam-removed',
      address: 'http://127.0.0.1:9/pp/1',
      referenceParameters: '',
      namespaces: {},
      createdAt: 1,
    });
    r = await rig([{ id: 'cam-b' }], { subscriptions: store.cameraSubscriptions });
    await parked(r.farm, 'cam-b');
    expect([...(await store.cameraSubscriptions.recall()).keys()]).toEqual(['cam-b']);
  });
});
