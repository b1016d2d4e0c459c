import { afterEach, describe, expect, it } from 'vitest';
import { NIGHT_START, harness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const perimeterRule = {
  type: 'event',
  id: 'perimeter-zone',
  name: '周界报警',
  level: 2,
  category: 'public_order',
  when: { kinds: ['zone_alarm'], zoneTypes: ['perimeter'] },
  armedBy: [{ schedule: 'night' }],
  linkage: {
    cameras: ['cam-square'],
    ptz: { camera: 'cam-square', preset: '3' },
    siren: { device: 'siren-1', seconds: 60 },
    broadcast: { device: 'speaker-1', clip: 'no-climbing' },
    ttlSeconds: 30,
  },
};
const linkageNotes = async (id: string) => (await h.store.alarms.history(id)).filter((x) => x.action === 'linkage').map((x) => x.note);

describe('linkage', () => {
  it("snapshots from the zone's linked camera and another, a PTZ preset, a siren and a clip: commands with expiry, outcomes in the history", async () => {
    h = await harness({ start: NIGHT_START, rules: { list: [perimeterRule] } });
    await h.emit('zone_alarm', 'panel-1', { attrs: { zone: 1, zoneType: 'perimeter' }, source: '1' });
    await h.settle();
    const [a] = await h.store.alarms.listOpen();
    expect(h.driver.sent.map((c) => [c.deviceId, c.action, c.params, c.expiresAt - c.createdAt])).toEqual([
      ['cam-perim-1', 'snapshot', {}, 30_000],
      ['cam-square', 'snapshot', {}, 30_000],
      ['cam-square', 'ptz_preset', { preset: '3' }, 30_000],
      ['siren-1', 'siren', { on: true, seconds: 60 }, 30_000],
      ['speaker-1', 'broadcast', { clip: 'no-climbing' }, 30_000],
    ]);
    expect(h.driver.sent.every((c) => c.requestedBy === 'rule:perimeter-zone' && c.alarmId === a!.id && c.reason.includes(a!.title))).toBe(true);
    expect(a!.snapshots.sort()).toEqual(['snap-1', 'snap-2']);
    expect((await linkageNotes(a!.id)).sort()).toEqual(
      [
        '联动 摄像机 cam-perim-1 抓拍：成功',
        '联动 摄像机 cam-square 抓拍：成功',
        '联动 摄像机 cam-square 转到预置位：成功',
        '联动 广场声光报警器 声光报警 60 秒：成功',
        '联动 广场广播 广播喊话：成功',
      ].sort(),
    );
    expect(await h.store.audit.list({ action: 'command.siren' })).toHaveLength(2);
  });

  it('a failed command is an outcome in the history, not an error (a camera with no driver yet)', async () => {
    h = await harness();
    h.driver.outcome = (cmd) => (cmd.action === 'snapshot' ? { status: 'failed', detail: `no driver handles ${cmd.deviceId}` } : { status: 'succeeded' });
    await h.emit('door_forced', 'door-b3');
    await h.settle();
    const [a] = await h.store.alarms.listOpen();
    expect(a!.snapshots).toEqual([]);
    expect(await linkageNotes(a!.id)).toEqual(['联动 摄像机 cam-b3 抓拍：失败（no driver handles cam-b3）']);
  });

  it('a siren that is offline gets nothing sent: the command expires unsent, recorded with its audit trail and in the alarm history', async () => {
    h = await harness({ start: NIGHT_START, rules: { list: [perimeterRule] } });
    h.driver.away.add('siren-1');
    await h.emit('zone_alarm', 'panel-1', { attrs: { zone: 1, zoneType: 'perimeter' }, source: '1' });
    await h.settle();
    expect(h.driver.sent.map((c) => c.action)).not.toContain('siren');
    expect(h.det.linkage.waitingCount()).toBe(1);
    await h.advance(31_000);
    expect(h.det.linkage.waitingCount()).toBe(0);
    expect(h.driver.sent.map((c) => c.action)).not.toContain('siren');
    const [cmd] = await h.store.commands.recent(10, 'siren-1');
    expect(cmd).toMatchObject({ action: 'siren', status: 'expired', outcome: 'never sent: the device was offline until the command expired' });
    expect(cmd!.completedAt! - cmd!.createdAt).toBe(30_000);
    expect((await h.store.audit.list({ action: 'command.siren' })).map((x) => x.outcome)).toEqual([
      'expired: never sent: the device was offline until the command expired',
      'requested',
    ]);
    const [a] = await h.store.alarms.listOpen();
    expect(await linkageNotes(a!.id)).toContain('联动 广场声光报警器 声光报警 60 秒：未发送，设备离线至指令过期（30 秒）');
  });

  it('a command waiting for an offline device goes out when the device comes back before the expiry, with the time left', async () => {
    h = await harness({ start: NIGHT_START, rules: { list: [perimeterRule] } });
    await h.emit('device_offline', 'siren-1');
    await h.emit('zone_alarm', 'panel-1', { attrs: { zone: 1, zoneType: 'perimeter' }, source: '1' });
    await h.settle();
    await h.advance(12_000);
    expect(h.driver.sent.map((c) => c.action)).not.toContain('siren');
    await h.emit('device_offline', 'siren-1', { active: false });
    await h.settle();
    const siren = h.driver.sent.find((c) => c.action === 'siren')!;
    expect(siren.expiresAt - siren.createdAt).toBe(18_000);
  });
});
