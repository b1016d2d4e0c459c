import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const alarms = async () => (await h.store.alarms.changedSince(0, 1000)).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
const history = async (id: string) => (await h.store.alarms.history(id)).map((x) => [x.action, x.actor, x.note ?? null]);

describe('device faults and stuck states', () => {
  it('a camera offline is a device-fault alarm; its return is noted and the alarm stays for a person', async () => {
    h = await harness();
    await h.emit('device_offline', 'cam-b3', { attrs: { reason: 'no answer to GetSystemDateAndTime' } });
    await h.advance(10 * 60_000, 60_000);
    await h.emit('device_offline', 'cam-b3', { active: false, attrs: {} });
    await h.advance(30_000);
    const [a] = await alarms();
    expect(a).toMatchObject({ rule: 'device-offline', category: 'device_fault', level: 3, status: 'new', title: '设备离线：摄像机 cam-b3' });
    expect((await history(a!.id)).at(-1)).toEqual(['note', 'rule:device-offline', '设备离线已恢复（摄像机 cam-b3），持续 10 分钟']);
  });

  it('an event channel lost opens a fault only if it stays lost for its hold time (debounce)', async () => {
    h = await harness();
    await h.emit('event_channel_lost', 'cam-b5', { attrs: { reason: 'PullMessages failed' } });
    await h.advance(200_000, 10_000);
    await h.emit('event_channel_lost', 'cam-b5', { active: false, attrs: { reason: 'renewed' } });
    await h.advance(200_000, 10_000);
    expect(await alarms()).toEqual([]);
    const lost = await h.emit('event_channel_lost', 'cam-b5', { attrs: { reason: 'PullMessages failed' } });
    await h.advance(299_000, 10_000);
    expect(await alarms()).toEqual([]);
    await h.advance(2_000);
    const [a] = await alarms();
    expect(a).toMatchObject({ rule: 'event-channel-lost', category: 'device_fault', evidence: [lost.id] });
  });

  it('tamper, panel trouble and a silent device are faults', async () => {
    h = await harness();
    await h.emit('tamper', 'cam-square', { attrs: { cause: 'covered' } });
    await h.emit('trouble', 'panel-1', { attrs: { trouble: 'ac_loss' } });
    await h.emit('device_silent', 'sos-1', { attrs: { silentForMs: 3_600_000 } });
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.category, a.level])).toEqual([
      ['tamper', 'device_fault', 2],
      ['panel-trouble', 'device_fault', 3],
      ['device-silent', 'device_fault', 3],
    ]);
  });

  it('clears an active state that never got its stop after stuckMinutes, with a note; the alarm stays open', async () => {
    h = await harness({
      rules: {
        stuckMinutes: 10,
        list: [{ type: 'event', id: 'b3-motion', name: '3栋入口移动', level: 3, category: 'public_order', when: { kinds: ['motion'], devices: ['cam-b3'] } }],
      },
    });
    await h.emit('motion', 'cam-b3'); // and the camera never says it stopped
    await h.advance(9 * 60_000, 30_000);
    const [a] = await alarms();
    expect((await history(a!.id)).map((x) => x[0])).toEqual(['open']);
    await h.advance(2 * 60_000, 30_000);
    expect(h.det.engine.activeStates()).toBe(0);
    const after = await h.store.alarms.get(a!.id);
    expect(after!.status).toBe('new');
    expect((await history(a!.id)).at(-1)).toEqual([
      'note',
      'system',
      expect.stringMatching(/^移动侦测（摄像机 cam-b3）已持续 10 分钟 未收到结束信号，状态已自动清除；警情保留，请人工办结$/),
    ]);
    // device health states are not "stuck": an offline camera stays offline
    await h.emit('device_offline', 'cam-b5');
    await h.advance(30 * 60_000, 60_000);
    expect(h.det.engine.activeStates()).toBe(0); // device_offline is not tracked as a stuck candidate
    const off = (await alarms()).find((x) => x.rule === 'device-offline')!;
    expect((await history(off.id)).map((x) => x[0])).toEqual(['open']);
  });
});

describe('maintenance mode', () => {
  it('a device in maintenance (site file or installer) raises nothing; its events are still stored; every change is audited', async () => {
    h = await harness({}); // door-b5 not in maintenance in the file
    expect(h.det.listMaintenance()).toEqual([]);
    const entry = await h.det.setMaintenance('door-b3', true, '王安装', '更换门磁', 120);
    expect(entry).toMatchObject({ deviceId: 'door-b3', source: 'panel', actor: '王安装', reason: '更换门磁', until: h.clock.now() + 120 * 60_000 });
    const e = await h.emit('door_forced', 'door-b3');
    await h.emit('tamper', 'door-b3');
    await h.settle();
    expect(await alarms()).toEqual([]);
    expect(await h.store.events.byId(e.id)).toMatchObject({ kind: 'door_forced', deviceId: 'door-b3' });
    expect(h.det.engine.stats.maintenanceSkipped).toBe(2);
    await h.det.setMaintenance('door-b3', false, '王安装', '完工');
    await h.emit('door_forced', 'door-b3');
    await h.settle();
    expect((await alarms()).map((a) => a.rule)).toEqual(['door-forced']);
    const audit = await h.store.audit.list({ action: 'device.maintenance' });
    expect(audit.map((x) => [x.actor, x.target, x.outcome, (x.detail as { reason: string }).reason])).toEqual([
      ['王安装', 'door-b3', 'off', '完工'],
      ['王安装', 'door-b3', 'on', '更换门磁'],
    ]);
  });

  it('a maintenance flag lapses by itself, survives a restart, and refuses unknown devices or a missing reason', async () => {
    h = await harness();
    await h.det.setMaintenance('smoke-b3-1', true, '王安装', '清洁烟感', 30);
    await h.restart();
    expect(h.det.listMaintenance().map((m) => m.deviceId)).toEqual(['smoke-b3-1']);
    await h.emit('smoke', 'smoke-b3-1');
    await h.settle();
    expect(await alarms()).toEqual([]);
    await h.advance(31 * 60_000, 60_000);
    expect(h.det.listMaintenance()).toEqual([]);
    await h.emit('smoke', 'smoke-b3-1', { active: false });
    await h.emit('smoke', 'smoke-b3-1');
    await h.settle();
    expect((await alarms()).map((a) => a.rule)).toEqual(['smoke']);
    await expect(h.det.setMaintenance('door-b9', true, '王安装', 'x')).rejects.toThrow(/no device "door-b9"/);
    await expect(h.det.setMaintenance('door-b3', true, '王安装', ' ')).rejects.toThrow(/needs a reason/);
  });

  it('the site file can put a device into maintenance', async () => {
    const { detectSite } = await import('./harness.ts');
    const config = detectSite();
    const door = config.devices.find((d) => d.id === 'door-b5')!;
    door.maintenance = true;
    h = await harness({ config });
    expect(h.det.listMaintenance()).toEqual([expect.objectContaining({ deviceId: 'door-b5', source: 'config' })]);
    await h.emit('door_forced', 'door-b5');
    await h.settle();
    expect(await alarms()).toEqual([]);
  });
});
