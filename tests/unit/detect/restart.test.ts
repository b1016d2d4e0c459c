import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const alarms = async () => (await h.store.alarms.changedSince(0, 1000)).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
const actions = async (id: string) => (await h.store.alarms.history(id)).map((x) => x.action);

describe('restart safety', () => {
  it('a correlation window survives a reboot: door forced before, motion on its camera after, one confirmed intrusion', async () => {
    h = await harness();
    const door = await h.emit('door_forced', 'door-b3');
    await h.settle();
    await h.restart({ offFor: 8_000 });
    await h.advance(4_000);
    const motion = await h.emit('motion', 'cam-b3');
    await h.settle();
    const list = await alarms();
    expect(list.map((a) => [a.rule, a.level, a.evidence])).toEqual([['intrusion-confirmed', 1, [door.id, motion.id]]]);
    expect(await actions(list[0]!.id)).toEqual(['open', 'linkage', 'raise']);
  });

  it('an open alarm is found again after a reboot: a repeat adds evidence to it', async () => {
    h = await harness();
    await h.emit('door_forced', 'door-b5');
    await h.settle();
    await h.restart({ offFor: 60_000 });
    await h.emit('door_forced', 'door-b5');
    await h.advance(3_000);
    expect((await alarms()).map((a) => [a.rule, a.count])).toEqual([['door-forced', 2]]);
  });

  it('deadlines cross a reboot: one that passed while the box was off is acted on once at start, one still ahead fires on time', async () => {
    h = await harness();
    await h.emit('door_forced', 'door-b3'); // level 2: accept in 15 min
    await h.emit('sos', 'sos-1'); // level 1: accept in 5 min
    await h.settle();
    const [door, sos] = await alarms();
    await h.store.alarms.act(sos!.id, 'accept', '张保安'); // accepted: only its close deadline (60 min) is left
    await h.restart({ offFor: 20 * 60_000 });
    await h.settle();
    expect(await h.store.alarms.get(door!.id)).toMatchObject({ overdue: true, level: 1, escalated: true });
    expect((await actions(door!.id)).filter((a) => a === 'overdue')).toHaveLength(1);
    await h.restart();
    await h.settle();
    expect((await actions(door!.id)).filter((a) => a === 'overdue')).toHaveLength(1); // not again
    expect((await h.store.alarms.get(sos!.id))!.overdue).toBe(false);
    await h.advance(39 * 60_000, 60_000);
    expect((await h.store.alarms.get(sos!.id))!.overdue).toBe(false);
    await h.advance(2 * 60_000, 60_000);
    expect((await h.store.alarms.get(sos!.id))!.overdue).toBe(true);
  });

  it('catches up on events stored but not yet handled when the power went: the alarm opens at start, once', async () => {
    h = await harness();
    h.detach();
    const e = await h.emit('door_forced', 'door-b3');
    await h.restart({ offFor: 5_000 });
    await h.settle();
    const list = await alarms();
    expect(list.map((a) => [a.rule, a.evidence])).toEqual([['door-forced', [e.id]]]);
    await h.restart();
    await h.settle();
    expect(await alarms()).toHaveLength(1);
  });

  it('does not open an alarm twice when it was written but the cursor was not (died within the cursor interval)', async () => {
    h = await harness();
    const before = h.store.events.lastSeq();
    await h.emit('door_forced', 'door-b3');
    await h.emit('smoke', 'smoke-b3-1');
    await h.settle();
    const [first] = await alarms();
    await h.store.alarms.act(first!.id, 'resolve', '张保安'); // even after a person closed it
    await h.restart({ offFor: 1_000, cursor: before });
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.status])).toEqual([
      ['door-forced', 'resolved'],
      ['smoke', 'new'],
    ]);
  });

  it('a caught-up alarm whose event is older than the linkage expiry gets no siren, and says so', async () => {
    h = await harness();
    h.detach();
    await h.emit('door_forced', 'door-b3');
    await h.restart({ offFor: 10 * 60_000 });
    await h.settle();
    const [a] = await alarms();
    expect(h.driver.sent).toEqual([]);
    expect((await h.store.alarms.history(a!.id)).at(-1)).toMatchObject({ action: 'linkage', note: '联动未执行：触发事件已超过 30 秒（重启后补录的警情）' });
  });

  it('panel arming survives a reboot, even one longer than any rule window', async () => {
    h = await harness();
    await h.emit('armed', 'panel-1', { attrs: { mode: 'night' } });
    await h.settle();
    await h.restart({ offFor: 6 * 3_600_000 });
    await h.emit('zone_alarm', 'panel-1', { attrs: { zone: 2, zoneType: 'intrusion' }, source: '2' });
    await h.settle();
    expect((await alarms()).map((a) => a.rule)).toEqual(['intrusion-zone']);
  });

  it('a debounce (hold) running at shutdown completes after start; one that ran out while off opens at start', async () => {
    h = await harness();
    await h.emit('event_channel_lost', 'cam-b3', { attrs: { reason: 'x' } });
    await h.advance(100_000, 10_000);
    await h.restart({ offFor: 10_000 });
    await h.advance(150_000, 10_000);
    expect(await alarms()).toEqual([]);
    await h.advance(50_000, 10_000);
    expect((await alarms()).map((a) => [a.rule, a.deviceId])).toEqual([['event-channel-lost', 'cam-b3']]);
    await h.emit('event_channel_lost', 'cam-b5', { attrs: { reason: 'x' } });
    await h.advance(60_000, 10_000);
    await h.restart({ offFor: 600_000 });
    await h.settle();
    expect((await alarms()).map((a) => a.deviceId)).toEqual(['cam-b3', 'cam-b5']);
    await h.restart();
    await h.settle();
    expect(await alarms()).toHaveLength(2);
  });
});
