import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.ts';
import type { SiteConfig } from '../../../config/schema.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';
import { startApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { tempDir } from '../../helpers/store.ts';

/** The real gateway (real aedes on a random port, real SQLite) with detection, driven by MQTT devices. */
const GRID = '320602001001-01';

function site(rules: Record<string, unknown> = {}, cameraPort = 18999): SiteConfig {
  const base = { grid: GRID, place: { building: '3栋', unit: '1单元', point: 'entrance' } };
  const r = parseConfig({
    demo: true,
    site: { boxId: 'sw-320602-055', name: '联动测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
    grids: [{ code: GRID, name: '一网格' }],
    devices: [
      { id: 'cam-1', kind: 'onvif_camera', name: '3栋入口摄像机', ...base, host: '127.0.0.1', port: cameraPort, username: 'admin', password: 'admin-demo' },
      { id: 'door-1', kind: 'access_controller', name: '3栋1单元门', ...base, password: 'door-1-demo', door: { name: '3栋1单元门' }, linkedCameras: ['cam-1'] },
      { id: 'door-2', kind: 'access_controller', name: '3栋2单元门', ...base, password: 'door-2-demo', door: { name: '3栋2单元门' }, linkedCameras: ['cam-1'] },
      { id: 'siren-1', kind: 'siren', name: '3栋声光报警器', ...base, password: 'siren-1-demo', maxDurationSeconds: 60 },
    ],
    panel: { host: '127.0.0.1', port: 8080 },
    broker: { host: '127.0.0.1', port: 1883 },
    rules,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

let t: ReturnType<typeof tempDir>;
let app: Awaited<ReturnType<typeof startApp>> | undefined;
const clients: MqttClient[] = [];
let farm: CameraFarm | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await app?.stop();
  app = undefined;
  await farm?.stop();
  farm = undefined;
  t.cleanup();
});

async function device(id: string) {
  const c = await connect(app!.mqttUrl, { clientId: id, username: id, password: `${id}-demo`, clean: false });
  clients.push(c);
  return c;
}

const until = async <T>(fn: () => Promise<T | undefined | false>, what: string, ms = 5000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('detection in the gateway', () => {
  it(
    'end to end: a forced door published through the broker becomes an alarm in the store with its evidence, place and linkage outcome',
    { timeout: 30_000 },
    async () => {
      t = tempDir();
      // the linked camera is a simulated one (a real ONVIF peer): its snapshot becomes evidence
      farm = await startCameras({ cameras: [{ id: 'cam-1', port: 0, username: 'admin', password: 'admin-demo' }] });
      app = await startApp(t.dir, site({}, farm.cameras[0]!.port));
      const door = await device('door-1');
      await publish(door, 'sw/v1/door-1/event', JSON.stringify({ id: 'd1-7', type: 'door', state: 'forced' }));
      // PUBACK came back: the event is committed, and detection saw it
      const [event] = await app.store.events.read({ kinds: ['door_forced'] });
      const alarm = await until(async () => (await app!.store.alarms.listOpen())[0], 'the alarm');
      expect(alarm).toMatchObject({
        rule: 'door-forced',
        level: 2,
        category: 'public_order',
        title: '门被强行打开：3栋1单元门',
        deviceId: 'door-1',
        grid: GRID,
        place: { building: '3栋', unit: '1单元', point: 'entrance', name: '3栋1单元门' },
        evidence: [event!.id],
        status: 'new',
      });
      // the snapshot from the linked camera: its outcome in the history, the picture in the alarm's evidence
      const history = await until(
        async () => {
          const h = await app!.store.alarms.history(alarm.id);
          return h.length >= 2 && h;
        },
        'the linkage outcome',
        15_000,
      );
      expect(history.map((x) => [x.action, x.actor])).toEqual([
        ['open', 'rule:door-forced'],
        ['linkage', 'rule:door-forced'],
      ]);
      expect(history[1]!.note).toMatch(/^联动 3栋入口摄像机 抓拍：成功/);
      expect(await app.store.commands.recent(10, 'cam-1')).toMatchObject([{ action: 'snapshot', status: 'succeeded', alarmId: alarm.id }]);
      const withPicture = (await app.store.alarms.get(alarm.id))!;
      expect(withPicture.snapshots).toHaveLength(1);
      expect((await app.snapshots.read(withPicture.snapshots[0]!))?.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      // and it is on its way to the county, in the alarm lane
      const up = await app.store.outbox.next(100);
      expect(up.filter((e) => e.type === 'alarm.opened').map((e) => (e.body as { alarm: { id: string } }).alarm.id)).toEqual([alarm.id]);
    },
  );

  it('a gateway restart keeps the open alarm: the same door forced again after it is a repeat, not a new alarm', async () => {
    t = tempDir();
    app = await startApp(t.dir, site());
    let door = await device('door-1');
    await publish(door, 'sw/v1/door-1/event', JSON.stringify({ id: 'd1-20', type: 'door', state: 'forced' }));
    const first = await until(async () => (await app!.store.alarms.listOpen())[0], 'the alarm');
    await app.detect.idle();
    door.end(true);
    clients.splice(0);
    await app.stop();
    app = await startApp(t.dir, site());
    door = await device('door-1');
    await publish(door, 'sw/v1/door-1/event', JSON.stringify({ id: 'd1-21', type: 'door', state: 'forced' }));
    await app.stop(); // a clean stop writes what is pending
    app = await startApp(t.dir, site());
    const open = await app.store.alarms.listOpen();
    expect(open.map((a) => [a.id, a.count, a.evidence.length])).toEqual([[first.id, 2, 2]]);
  });

  it('an installer puts a door into maintenance: its forced door is stored but raises no alarm', async () => {
    t = tempDir();
    app = await startApp(t.dir, site());
    await app.detect.setMaintenance('door-1', true, '王安装', '更换门禁读头');
    const door = await device('door-1');
    await publish(door, 'sw/v1/door-1/event', JSON.stringify({ id: 'd1-8', type: 'door', state: 'forced' }));
    await app.detect.idle();
    expect(await app.store.events.read({ kinds: ['door_forced'] })).toHaveLength(1);
    expect(await app.store.alarms.listOpen()).toEqual([]);
    expect((await app.store.audit.list({ action: 'device.maintenance' }))[0]).toMatchObject({ actor: '王安装', target: 'door-1', outcome: 'on' });
  });

  it('a siren linkage for an offline siren expires unsent (nothing reaches the siren later); once it is back, the next alarm sounds it', async () => {
    t = tempDir();
    const clock = new FakeClock(Date.UTC(2026, 10, 21, 15, 0, 0));
    const sirenRule = (id: string, name: string) => ({
      type: 'event',
      id,
      name,
      level: 2,
      category: 'public_order',
      when: { kinds: ['door_forced'] },
      linkage: { snapshots: 'none', siren: { device: 'siren-1', seconds: 20 }, ttlSeconds: 30 },
    });
    app = await startApp(t.dir, site({ offlineDebounceSeconds: 10, list: [sirenRule('door-forced', '门被强行打开')] }), { clock });
    const door1 = await device('door-1');
    const door2 = await device('door-2');
    // the siren never connects: after the debounce the driver reports it offline
    clock.advance(10_000);
    await until(async () => (await app!.store.events.read({ kinds: ['device_offline'], deviceIds: ['siren-1'] })).length === 1, 'siren offline');
    await publish(door1, 'sw/v1/door-1/event', JSON.stringify({ id: 'd1-9', type: 'door', state: 'forced' }));
    const alarm = await until(async () => (await app!.store.alarms.listOpen()).find((a) => a.deviceId === 'door-1'), 'the alarm');
    await app.detect.idle();
    expect(app.detect.linkage.waitingCount()).toBe(1);
    clock.advance(31_000);
    const cmd = await until(async () => (await app!.store.commands.recent(10, 'siren-1'))[0], 'the expired command');
    expect(cmd).toMatchObject({
      action: 'siren',
      status: 'expired',
      outcome: 'never sent: the device was offline until the command expired',
      alarmId: alarm.id,
    });
    const notes = await until(async () => {
      const h = (await app!.store.alarms.history(alarm.id)).filter((x) => x.action === 'linkage');
      return h.length > 0 && h.map((x) => x.note);
    }, 'the linkage note');
    expect(notes).toEqual(['联动 3栋声光报警器 声光报警 20 秒：未发送，设备离线至指令过期（30 秒）']);

    // the siren comes back (persistent session): nothing was queued for it
    const siren = await device('siren-1');
    const received: { id: string; action: string }[] = [];
    siren.on('message', (_topic, payload) => {
      const c = JSON.parse(payload.toString()) as { id: string; action: string };
      received.push(c);
      siren.publish('sw/v1/siren-1/cmd/ack', JSON.stringify({ id: c.id, result: 'ok' }), { qos: 1 });
    });
    await new Promise((r) => siren.subscribe('sw/v1/siren-1/cmd', { qos: 1 }, r));
    await until(async () => (await app!.store.events.read({ kinds: ['device_offline'], deviceIds: ['siren-1'] })).length === 2, 'siren back online');
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toEqual([]);

    // a new alarm now sounds it
    await publish(door2, 'sw/v1/door-2/event', JSON.stringify({ id: 'd2-1', type: 'door', state: 'forced' }));
    const second = await until(async () => (await app!.store.alarms.listOpen()).find((a) => a.deviceId === 'door-2'), 'the second alarm');
    const ok = await until(async () => {
      const h = (await app!.store.alarms.history(second.id)).filter((x) => x.action === 'linkage');
      return h.length > 0 && h.map((x) => x.note);
    }, 'the siren outcome');
    expect(ok).toEqual(['联动 3栋声光报警器 声光报警 20 秒：成功']);
    expect(received.map((c) => c.action)).toEqual(['siren']);
    expect((await app.store.audit.list({ action: 'command.siren' })).map((a) => a.outcome)).toEqual([
      'succeeded',
      'requested',
      'expired: never sent: the device was offline until the command expired',
      'requested',
    ]);
  });
});
