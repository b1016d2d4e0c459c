import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const history = async (id: string) => (await h.store.alarms.history(id)).map((x) => [x.action, x.actor, x.note ?? null]);
const only = async () => {
  const list = await h.store.alarms.changedSince(0, 1000);
  expect(list).toHaveLength(1);
  return list[0]!;
};

describe('deadlines and escalation', () => {
  it('a level-2 alarm not accepted in 15 minutes is overdue, raised to level 1 and flagged for the county; past its close deadline it is overdue again', async () => {
    h = await harness();
    await h.emit('door_forced', 'door-b3');
    await h.advance(14 * 60_000, 60_000);
    expect(await only()).toMatchObject({ overdue: false, level: 2, escalated: false });
    await h.advance(2 * 60_000, 60_000);
    const a = await only();
    expect(a).toMatchObject({ overdue: true, level: 1, escalated: true, status: 'new' });
    expect((await history(a.id)).slice(2)).toEqual([
      ['overdue', 'system', '受理超时：超过受理时限 15 分钟（二级预警）'],
      ['raise', 'system', '超时升级：二级 → 一级'],
      ['escalate', 'system', '受理超时，上报县级综治中心'],
    ]);
    // the county hears of each step through the outbox (alarm lane)
    const up = await h.store.outbox.next(100);
    expect(up.filter((e) => e.type === 'alarm.updated').map((e) => (e.body as { change: { action: string } }).change.action)).toEqual([
      'linkage',
      'overdue',
      'raise',
      'escalate',
    ]);
    await h.store.alarms.act(a.id, 'accept', '张保安');
    await h.advance(240 * 60_000, 10 * 60_000);
    const after = (await history(a.id)).slice(5);
    expect(after).toEqual([
      ['accept', '张保安', null],
      ['overdue', 'system', '办结超时：超过办结时限 4 小时（一级预警）'], // already escalated: not flagged twice
    ]);
  });

  it('an alarm accepted in time is not overdue to accept, only if left open past its close deadline', async () => {
    h = await harness();
    await h.emit('sos', 'sos-1'); // level 1: 5 / 60 minutes
    await h.advance(3 * 60_000, 60_000);
    const a = await only();
    await h.store.alarms.act(a.id, 'accept', '张保安', '已电话联系住户');
    await h.advance(50 * 60_000, 60_000);
    expect((await only()).overdue).toBe(false);
    await h.advance(10 * 60_000, 60_000);
    expect(await only()).toMatchObject({ overdue: true, level: 1, escalated: true });
    expect((await history(a.id)).filter((x) => x[0] === 'overdue').map((x) => x[2])).toEqual(['办结超时：超过办结时限 60 分钟（一级预警）']);
  });

  it('a closed alarm is never overdue', async () => {
    h = await harness();
    await h.emit('door_forced', 'door-b5');
    await h.settle();
    const a = await only();
    await h.store.alarms.act(a.id, 'resolve', '张保安', '已处置');
    await h.advance(300 * 60_000, 10 * 60_000);
    expect(await only()).toMatchObject({ overdue: false, status: 'resolved' });
    expect(h.det.deadlines.pending()).toBe(0);
  });

  it('escalation is configurable: no level raise, county flagged only when the close deadline is missed', async () => {
    h = await harness({ rules: { escalation: { raiseLevel: false, flagCounty: 'close' }, deadlines: { level3: { acceptMinutes: 10, closeMinutes: 30 } } } });
    await h.emit('device_offline', 'cam-b3');
    await h.advance(11 * 60_000, 60_000);
    expect(await only()).toMatchObject({ overdue: true, level: 3, escalated: false });
    await h.advance(20 * 60_000, 60_000);
    expect(await only()).toMatchObject({ overdue: true, level: 3, escalated: true });
    expect((await history((await only()).id)).map((x) => x[0])).toEqual(['open', 'overdue', 'overdue', 'escalate']);
  });
});
