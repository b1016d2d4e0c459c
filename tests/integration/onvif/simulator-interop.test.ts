import onvif from 'onvif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraAdapter } from '../../../device-drivers/onvif/adapter.ts';
import { fetchSnapshot } from '../../../device-drivers/onvif/snapshot.ts';
import { systemClock } from '../../../gateway/core/clock.ts';
import { FLAVOURS, startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';

/**
 * The simulator's SOAP checked by an independent ONVIF client (the `onvif`
 * npm package, agsh/onvif), so the simulator is an honest peer and not a
 * mirror of our own parser; then our node-onvif adapter against it.
 */
type Callback = (err: Error | null, ...data: unknown[]) => void;
interface AgshCam {
  getDeviceInformation(cb: Callback): void;
  getStreamUri(o: { protocol: string; profileToken?: string }, cb: Callback): void;
  createPullPointSubscription(cb: Callback): void;
  pullMessages(o: { messageLimit: number }, cb: Callback): void;
  unsubscribe(cb: Callback): void;
  profiles: { $: { token: string }; name: string }[];
}

function connect(port: number, password = 'admin-demo'): Promise<AgshCam> {
  return new Promise((resolve, reject) => {
    const cam = new (onvif as unknown as { Cam: new (o: object, cb: (this: AgshCam, err: Error | null) => void) => AgshCam }).Cam(
      { hostname: '127.0.0.1', port, username: 'admin', password, timeout: 5000, preserveAddress: true },
      function (err) {
        if (err) reject(err);
        else resolve(this);
      },
    );
    void cam;
  });
}

const call = <T>(fn: (cb: Callback) => void): Promise<T> => new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data as T))));

describe('the camera simulator, read by independent clients', { timeout: 30_000 }, () => {
  let farm: CameraFarm;
  beforeAll(async () => {
    farm = await startCameras({
      cameras: [
        ...FLAVOURS.map((flavour) => ({ id: `cam-${flavour}`, port: 0, username: 'admin', password: 'admin-demo', flavour, ptz: flavour === 'standard' })),
        { id: 'cam-digest', port: 0, username: 'admin', password: 'admin-demo', auth: 'digest-only' as const, flavour: 'hikvision' as const },
      ],
    });
  });
  afterAll(() => farm.stop());

  for (const flavour of FLAVOURS) {
    it(`agsh/onvif reads device information, profiles, a stream URI and PullPoint events (${flavour})`, async () => {
      const sim = farm.camera(`cam-${flavour}`);
      const cam = await connect(sim.port);
      const info = await call<{ manufacturer: string; model: string }>((cb) => cam.getDeviceInformation(cb));
      expect(info.manufacturer).toBe(flavour === 'hikvision' ? 'HIKVISION' : flavour === 'dahua' ? 'Dahua' : 'Shouwang Sim');
      expect(cam.profiles.map((p) => p.$.token)).toEqual(['Profile_1', 'Profile_2']);
      const stream = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'Profile_2' }, cb));
      expect(stream.uri).toMatch(/^rtsp:\/\/127\.0\.0\.1:554\/Streaming\/Channels\/102/);

      const sub = await call<{ subscriptionReference: { address: { href: string } } }>((cb) => cam.createPullPointSubscription(cb));
      expect(sub.subscriptionReference.address.href).toContain(`:${sim.port}/onvif/subscription/`);
      const initial = await call<{ notificationMessage: unknown[] }>((cb) => cam.pullMessages({ messageLimit: 50 }, cb));
      expect(initial.notificationMessage).toHaveLength(4); // the current states, Initialized
      setTimeout(() => sim.emit({ type: 'tamper', active: true }), 50);
      const next = await call<{
        notificationMessage: {
          topic: { _: string };
          message: { message: { $: { PropertyOperation: string }; data: { simpleItem: { $: { Value: unknown } } } } };
        };
      }>((cb) => cam.pullMessages({ messageLimit: 10 }, cb));
      const m = Array.isArray(next.notificationMessage) ? next.notificationMessage[0] : next.notificationMessage;
      expect(m.topic._).toMatch(/Tamper|GlobalSceneChange/);
      expect(m.message.message.$.PropertyOperation).toBe('Changed');
      expect(String(m.message.message.data.simpleItem.$.Value)).toBe(flavour === 'dahua' ? '1' : 'true');
      await call((cb) => cam.unsubscribe(cb));
      expect(sim.activeSubscriptions).toBe(0);
    });
  }

  it('our node-onvif adapter reads information, profiles with stream and snapshot URIs, and moves to a PTZ preset', async () => {
    const sim = farm.camera('cam-standard');
    const a = new CameraAdapter({ host: '127.0.0.1', port: sim.port, username: 'admin', password: 'admin-demo' });
    const d = await a.describe();
    expect(d.info).toMatchObject({ manufacturer: 'Shouwang Sim', model: 'SW-PTZ-4MP', firmwareVersion: expect.any(String) });
    expect(d.ptz).toBe(true);
    expect(d.profiles[0]).toMatchObject({
      token: 'Profile_1',
      encoding: 'H264',
      width: 2560,
      height: 1440,
      streamUri: expect.stringMatching(/^rtsp:\/\/127\.0\.0\.1:554\//),
      snapshotUri: `http://127.0.0.1:${sim.port}/onvif/snapshot?channel=1&profile=Profile_1`,
    });
    expect(await a.presets()).toEqual(sim.presets);
    await a.gotoPreset('3');
    expect(sim.ptzPreset).toBe('3');
    await expect(a.gotoPreset('99')).rejects.toThrow(/fault.*no preset/);
    a.close();
  });

  it('the adapter answers HTTP Digest on SOAP (node-onvif alone cannot), and a wrong password is an auth error', async () => {
    const sim = farm.camera('cam-digest');
    const ok = new CameraAdapter({ host: '127.0.0.1', port: sim.port, username: 'admin', password: 'admin-demo' });
    expect((await ok.describe()).info.manufacturer).toBe('HIKVISION');
    ok.close();
    const bad = new CameraAdapter({ host: '127.0.0.1', port: sim.port, username: 'admin', password: 'nope' });
    await expect(bad.describe()).rejects.toMatchObject({ kind: 'auth' });
    bad.close();
  });

  it('fetches the snapshot behind HTTP Digest (a base64 nonce and a realm with a comma), concurrently for two cameras', async () => {
    const [x, y] = [farm.camera('cam-standard'), farm.camera('cam-dahua')];
    const get = (port: number) =>
      fetchSnapshot(`http://127.0.0.1:${port}/onvif/snapshot?channel=1`, { username: 'admin', password: 'admin-demo', clock: systemClock, timeoutMs: 5000 });
    const [a, b] = await Promise.all([get(x.port), get(y.port)]);
    for (const [pic, id] of [
      [a, 'cam-standard'],
      [b, 'cam-dahua'],
    ] as const) {
      expect(pic.contentType).toBe('image/jpeg');
      expect([...pic.bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      expect(pic.bytes.toString('latin1')).toContain(id); // each camera's own picture
    }
    await expect(
      fetchSnapshot(`http://127.0.0.1:${x.port}/onvif/snapshot`, { username: 'admin', password: 'bad', clock: systemClock, timeoutMs: 5000 }),
    ).rejects.toMatchObject({ kind: 'auth' });
  });

  it('refuses a GET on a SOAP path and an oversized request body', async () => {
    const sim = farm.camera('cam-standard');
    const r = await fetch(`http://127.0.0.1:${sim.port}/onvif/device_service`);
    expect(r.status).toBe(405);
    const big = await fetch(`http://127.0.0.1:${sim.port}/onvif/device_service`, { method: 'POST', body: 'x'.repeat(300 * 1024) }).catch(() => null);
    expect(big === null || big.status === 413).toBe(true);
    expect((await fetch(`http://127.0.0.1:${sim.port}/onvif/device_service`)).status).toBe(405); // still serving
  });
});
