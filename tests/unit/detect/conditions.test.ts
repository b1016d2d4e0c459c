import { afterEach, describe, expect, it } from 'vitest';
import { G1, G3, NIGHT_START, harness, zone, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const alarms = async () => (await h.store.alarms.listOpen()).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));

describe('event rules: conditions', () => {
  it('opens a forced door as a level-2 public-order alarm with its place, grid, evidence, deadlines and linked snapshot', async () => {
    h = await harness();
    const e = await h.emit('door_forced', 'door-b3');
    await h.settle();
    const [a, more] = await alarms();
    expect(more).toBeUndefined();
    expect(a).toMatchObject({
      rule: 'door-forced',
      level: 2,
      category: 'public_order',
      title: '门被强行打开：3栋1单元门',
      deviceId: 'door-b3',
      grid: G1,
      place: { building: '3栋', unit: '1单元', point: 'entrance', name: '3栋1单元门' },
      status: 'new',
      count: 1,
      evidence: [e.id],
      snapshots: ['snap-1'],
    });
    expect(a!.acceptBy! - a!.openedAt).toBe(15 * 60_000);
    expect(a!.closeBy! - a!.openedAt).toBe(240 * 60_000);
    expect(h.driver.sent.map((c) => [c.deviceId, c.action, c.requestedBy, c.alarmId])).toEqual([['cam-b3', 'snapshot', 'rule:door-forced', a!.id]]);
    const hist = await h.store.alarms.history(a!.id);
    expect(hist.map((x) => [x.action, x.actor])).toEqual([
      ['open', 'rule:door-forced'],
      ['linkage', 'rule:door-forced'],
    ]);
    expect(hist[1]!.note).toBe('联动 摄像机 cam-b3 抓拍：成功');
    // the command is on record with its expiry and audit trail
    const [cmd] = await h.store.commands.recent(10, 'cam-b3');
    expect(cmd).toMatchObject({ status: 'succeeded', alarmId: a!.id, expiresAt: cmd!.createdAt + 30_000 });
    expect((await h.store.audit.list({ action: 'command.snapshot' })).map((x) => x.outcome)).toEqual(['succeeded', 'requested']);
  });

  it('matches filters: point type and device kind, and only in the night schedule of the site time zone', async () => {
    h = await harness(); // 10:00 local
    await h.emit('line_crossing', 'cam-perim-1');
    await h.settle();
    expect(await alarms()).toEqual([]);
    await h.advance(NIGHT_START - h.clock.now(), 3_600_000); // 23:00 local
    await h.emit('line_crossing', 'cam-b3'); // an entrance camera: not perimeter
    await h.emit('line_crossing', 'cam-perim-1');
    await h.settle();
    const list = await alarms();
    expect(list.map((a) => [a.rule, a.deviceId])).toEqual([['perimeter-crossing-night', 'cam-perim-1']]);
    // 06:00 local the next morning: disarmed again
    await h.advance(7 * 3_600_000, 3_600_000);
    await h.emit('line_crossing', 'cam-perim-2');
    await h.settle();
    expect((await alarms()).map((a) => a.deviceId)).toEqual(['cam-perim-1']);
  });

  it('follows the panel: an intrusion zone alarms only while the panel is armed; a perimeter zone also by the night schedule', async () => {
    h = await harness();
    await h.emit('zone_alarm', 'panel-1', zone(2, 'intrusion'));
    await h.emit('zone_alarm', 'panel-1', zone(1, 'perimeter'));
    await h.settle();
    expect(await alarms()).toEqual([]);
    await h.emit('armed', 'panel-1', { attrs: { mode: 'away', user: '03' } });
    await h.emit('zone_alarm', 'panel-1', zone(2, 'intrusion'));
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.title, a.place?.zone])).toEqual([['intrusion-zone', '入侵报警：配电房', 2]]);
    await h.emit('disarmed', 'panel-1', { attrs: { user: '03' } });
    await h.emit('zone_alarm', 'panel-1', zone(1, 'perimeter'));
    await h.settle();
    expect(await alarms()).toHaveLength(1);
    await h.advance(NIGHT_START - h.clock.now(), 3_600_000);
    await h.emit('zone_alarm', 'panel-1', zone(1, 'perimeter'));
    await h.settle();
    expect((await alarms()).map((a) => a.rule)).toEqual(['intrusion-zone', 'perimeter-zone']);
  });

  it('fire and panic zones, SOS and gas alarm at any time, at level 1', async () => {
    h = await harness();
    await h.emit('zone_alarm', 'panel-1', zone(3, 'fire'));
    await h.emit('zone_alarm', 'panel-1', zone(4, 'panic'));
    await h.emit('sos', 'sos-1', { attrs: { household: '3栋1单元501' } });
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.level, a.category])).toEqual([
      ['fire-zone', 1, 'fire'],
      ['panic-zone', 1, 'help'],
      ['sos', 1, 'help'],
    ]);
  });

  it('arming modes: a rule armed only in away mode ignores a home arming', async () => {
    h = await harness({
      rules: {
        list: [
          {
            type: 'event',
            id: 'garage-away',
            name: '车库入侵（外出布防）',
            level: 2,
            category: 'public_order',
            when: { kinds: ['motion'], devices: ['cam-b5'] },
            armedBy: [{ panel: 'panel-1', modes: ['away'] }],
          },
        ],
      },
    });
    await h.emit('armed', 'panel-1', { attrs: { mode: 'home' } });
    await h.emit('motion', 'cam-b5');
    await h.settle();
    expect(await alarms()).toEqual([]);
    await h.emit('armed', 'panel-1', { attrs: { mode: 'away' } });
    await h.emit('motion', 'cam-b5', { active: false });
    await h.emit('motion', 'cam-b5');
    await h.settle();
    expect((await alarms()).map((a) => a.rule)).toEqual(['garage-away']);
  });

  it('ignores state snapshots at (re)subscription: an initial "active" is not a new alarm', async () => {
    h = await harness();
    await h.emit('sos', 'sos-1', { initial: true });
    await h.settle();
    expect(await alarms()).toEqual([]);
  });

  it('keeps going when one rule throws: the error is counted and logged, the other rules still raise their alarms', async () => {
    h = await harness();
    const broken = h.det.engine.rules.find((r) => r.id === 'door-forced')!;
    broken.onEvent = () => {
      throw new Error('boom');
    };
    await h.emit('door_forced', 'door-b3');
    await h.emit('sos', 'sos-1');
    await h.settle();
    expect((await alarms()).map((a) => a.rule)).toEqual(['sos']);
    expect(h.det.engine.ruleErrors().get('door-forced')).toBe(1);
    expect(h.det.engine.stats.ruleErrors).toBe(1);
  });

  it("raises the box's own storage alarms (device id _box) with no device filter", async () => {
    h = await harness();
    await h.emit('storage_loss', '_box', { attrs: { lane: 'status', cause: 'shed', reason: 'disk budget', count: 42 } });
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.category, a.title, a.deviceId])).toEqual([['box-storage', 'device_fault', '网关存储告警', '_box']]);
  });

  it('takes a G3 camera alarm into the grid of its device', async () => {
    h = await harness({
      rules: { list: [{ type: 'event', id: 'square-motion', name: '广场移动', level: 3, category: 'public_order', when: { kinds: ['motion'], grids: [G3] } }] },
    });
    await h.emit('motion', 'cam-b3');
    await h.emit('motion', 'cam-square');
    await h.settle();
    expect((await alarms()).map((a) => [a.deviceId, a.grid])).toEqual([['cam-square', G3]]);
  });
});
