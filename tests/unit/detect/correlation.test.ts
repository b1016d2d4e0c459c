import { afterEach, describe, expect, it } from 'vitest';
import { G3, harness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const alarms = async () => (await h.store.alarms.changedSince(0, 1000)).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
const notes = async (id: string, action = 'note') => (await h.store.alarms.history(id)).filter((x) => x.action === action).map((x) => x.note);

describe('correlations', () => {
  it('door forced plus motion on its linked camera within 30 s: the door alarm becomes a confirmed intrusion, level 1', async () => {
    h = await harness();
    const door = await h.emit('door_forced', 'door-b3');
    await h.advance(12_000);
    const motion = await h.emit('motion', 'cam-b3');
    await h.settle();
    const list = await alarms();
    expect(list).toHaveLength(1);
    const [a] = list;
    expect(a).toMatchObject({
      rule: 'intrusion-confirmed',
      level: 1,
      category: 'public_order',
      title: '确认入侵（门被强开且联动摄像机发现目标）：3栋1单元门',
      deviceId: 'door-b3',
      evidence: [door.id, motion.id],
    });
    // tighter deadlines of level 1 (accept in 5 min from when it opened)
    expect(a!.acceptBy! - a!.openedAt).toBe(5 * 60_000);
    expect(await notes(a!.id, 'raise')).toEqual(['关联确认：3栋1单元门门被强开，摄像机 cam-b3移动侦测，相隔 12 秒']);
    // more motion on that camera is evidence of the same alarm
    await h.emit('motion', 'cam-b3', { active: false });
    await h.emit('motion', 'cam-b3');
    await h.advance(3000);
    expect((await alarms()).map((x) => [x.rule, x.count])).toEqual([['intrusion-confirmed', 3]]);
  });

  it('works in either order, but not with an unlinked camera or outside the window', async () => {
    h = await harness();
    await h.emit('line_crossing', 'cam-b5');
    await h.advance(20_000);
    await h.emit('door_forced', 'door-b5'); // camera first, door 20 s later
    await h.emit('motion', 'cam-b5', { active: false });
    await h.emit('motion', 'cam-square'); // not linked to door-b3
    await h.emit('door_forced', 'door-b3');
    await h.advance(31_000);
    await h.emit('motion', 'cam-b3'); // linked, but 31 s later
    await h.settle();
    expect((await alarms()).map((a) => [a.deviceId, a.rule, a.level])).toEqual([
      ['door-b5', 'intrusion-confirmed', 1],
      ['door-b3', 'door-forced', 2],
    ]);
  });

  it('a perimeter zone alarm plus its linked camera is a confirmed perimeter intrusion (while armed)', async () => {
    h = await harness();
    await h.emit('armed', 'panel-1', { attrs: { mode: 'away' } });
    await h.emit('zone_alarm', 'panel-1', { attrs: { zone: 1, zoneType: 'perimeter' }, source: '1' });
    await h.advance(4000);
    await h.emit('line_crossing', 'cam-perim-1');
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.level, a.title])).toEqual([
      ['perimeter-confirmed', 1, '确认周界入侵（防区报警且联动摄像机发现目标）：北围墙'],
    ]);
  });

  it('smoke on two sensors of one building within 2 minutes is a confirmed fire, level 1; one alarm takes the other in', async () => {
    h = await harness();
    await h.emit('smoke', 'smoke-b3-1');
    await h.emit('smoke', 'smoke-b5-1'); // another building
    await h.advance(90_000, 10_000);
    await h.emit('smoke', 'smoke-b3-2');
    await h.settle();
    const list = await alarms();
    expect(list.map((a) => [a.deviceId, a.rule, a.level, a.category])).toEqual([
      ['smoke-b3-1', 'fire-confirmed', 1, 'fire'],
      ['smoke-b5-1', 'smoke', 2, 'fire'],
      ['smoke-b3-2', 'smoke', 2, 'fire'],
    ]);
    expect(list[0]!.title).toBe('确认火情（同一楼栋两处烟感报警）：3栋');
    expect(list[0]!.evidence).toHaveLength(2);
    expect(await notes(list[2]!.id)).toEqual([`已并入警情 ${list[0]!.id}：确认火情（同一楼栋两处烟感报警）：3栋`]);
  });

  it('two smoke sensors more than 2 minutes apart stay two unconfirmed alarms', async () => {
    h = await harness();
    await h.emit('smoke', 'smoke-b3-1');
    await h.advance(125_000, 25_000);
    await h.emit('smoke', 'smoke-b3-2');
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.level])).toEqual([
      ['smoke', 2],
      ['smoke', 2],
    ]);
  });

  it('three cameras of one grid going offline within a minute: a new level-1 alarm for suspected sabotage or power cut, the fault alarms noted', async () => {
    h = await harness();
    await h.emit('device_offline', 'cam-perim-1', { attrs: { reason: 'no answer' } });
    await h.advance(20_000);
    await h.emit('device_offline', 'cam-perim-2', { attrs: { reason: 'no answer' } });
    await h.advance(20_000);
    await h.emit('device_offline', 'cam-square', { attrs: { reason: 'no answer' } });
    await h.settle();
    const list = await alarms();
    const sabotage = list.find((a) => a.rule === 'camera-sabotage')!;
    expect(sabotage).toMatchObject({
      level: 1,
      category: 'public_order',
      grid: G3,
      title: '疑似破坏或停电（同一网格多路摄像机同时离线）：三网格',
      evidence: expect.any(Array),
    });
    expect(sabotage.evidence).toHaveLength(3);
    expect(await notes(sabotage.id)).toEqual([
      expect.stringMatching(/^关联确认：三网格 3 台设备设备离线（摄像机 cam-perim-1、摄像机 cam-perim-2、摄像机 cam-square），40 秒内$/),
    ]);
    const faults = list.filter((a) => a.rule === 'device-offline');
    expect(faults.map((a) => [a.deviceId, a.level])).toEqual([
      ['cam-perim-1', 3],
      ['cam-perim-2', 3],
      ['cam-square', 3],
    ]);
    for (const f of faults) expect(await notes(f.id)).toEqual([`关联警情 ${sabotage.id}：${sabotage.title}`]);
    // a fourth camera of that grid adds evidence to the same alarm
    await h.emit('device_offline', 'cam-perim-3');
    await h.advance(3000);
    expect((await alarms()).filter((a) => a.rule === 'camera-sabotage').map((a) => a.count)).toEqual([2]);
  });

  it('two cameras offline, or three spread over more than a minute, are only device faults', async () => {
    h = await harness();
    await h.emit('device_offline', 'cam-perim-1');
    await h.advance(45_000, 15_000);
    await h.emit('device_offline', 'cam-perim-2');
    await h.advance(45_000, 15_000);
    await h.emit('device_offline', 'cam-perim-3');
    await h.settle();
    expect((await alarms()).map((a) => a.rule)).toEqual(['device-offline', 'device-offline', 'device-offline']);
  });

  it('site rules: a pair in the same building opens its own alarm when absorb is off; a group counts distinct devices, not repeats', async () => {
    h = await harness({
      rules: {
        list: [
          {
            type: 'pair',
            id: 'sos-with-smoke',
            name: '求助伴随烟感',
            level: 1,
            category: 'fire',
            first: { kinds: ['sos'] },
            second: { kinds: ['smoke'] },
            relation: 'same_building',
            withinSeconds: 60,
            absorb: false,
          },
          {
            type: 'group',
            id: 'unit-doors',
            name: '同一单元多门强开',
            level: 1,
            category: 'public_order',
            when: { kinds: ['door_forced'] },
            groupBy: 'building',
            minDevices: 2,
            withinSeconds: 60,
          },
        ],
      },
    });
    await h.emit('sos', 'sos-1'); // 3栋
    await h.advance(20_000);
    await h.emit('smoke', 'smoke-b5-1'); // 5栋: not the same building
    await h.emit('smoke', 'smoke-b3-2'); // 3栋
    await h.settle();
    const list = await alarms();
    const pair = list.find((a) => a.rule === 'sos-with-smoke')!;
    expect(pair).toMatchObject({ level: 1, category: 'fire', deviceId: 'sos-1', title: '求助伴随烟感：一键报警 3栋501' });
    expect(list.find((a) => a.rule === 'sos')!.level).toBe(1); // not absorbed: still there, with a note
    expect(await notes(list.find((a) => a.rule === 'sos')!.id)).toEqual([`关联警情 ${pair.id}：${pair.title}`]);
    // the same door forced twice is one device: no group
    await h.emit('door_forced', 'door-b3');
    await h.emit('door_forced', 'door-b3');
    await h.settle();
    expect((await alarms()).some((a) => a.rule === 'unit-doors')).toBe(false);
  });
});
