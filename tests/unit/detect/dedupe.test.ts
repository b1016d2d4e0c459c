import { afterEach, describe, expect, it } from 'vitest';
import { NIGHT_START, harness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const alarms = async () => (await h.store.alarms.changedSince(0, 1000)).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));

describe('flap suppression and dedupe', () => {
  it('turns a 1,000-event motion storm on a perimeter camera at night into one alarm with a count, written a few times, keeping the first events', async () => {
    h = await harness({ start: NIGHT_START });
    const ids: string[] = [];
    // a camera flapping every 120 ms for two minutes (rain on the lens), active/inactive pairs, stored 50 at a time
    for (let batch = 0; batch < 20; batch++) {
      const t0 = h.clock.now();
      const stored = await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          const at = t0 + i * 60;
          return h.emit('motion', 'cam-perim-1', { active: i % 2 === 0, deviceTime: at, receivedAt: at });
        }),
      );
      ids.push(...stored.filter((e) => e.active).map((e) => e.id));
      await h.advance(6000);
    }
    await h.advance(3000);
    const list = await alarms();
    expect(list).toHaveLength(1);
    const [a] = list;
    expect(a).toMatchObject({ rule: 'perimeter-motion-night', level: 3, count: 1000, status: 'new' });
    // the threshold (3 in 60 s) opened it with the first three; they stay in its evidence
    expect(a!.evidence.slice(0, 3)).toEqual(ids.slice(0, 3));
    expect(a!.evidence.length).toBeLessThanOrEqual(200);
    const history = await h.store.alarms.history(a!.id);
    const evidence = history.filter((x) => x.action === 'evidence');
    // coalesced: one write per flush interval (2 s), not one per blip
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence.length).toBeLessThanOrEqual(25);
    expect(evidence[0]!.note).toMatch(/^重复 \d+ 次$/);
    // a thousand stops, one restore note, once the camera has been quiet for 30 s
    expect(history.filter((x) => x.action === 'note')).toEqual([]);
    await h.advance(30_000, 5_000);
    const notes = (await h.store.alarms.history(a!.id)).filter((x) => x.action === 'note').map((x) => x.note);
    expect(notes).toEqual([expect.stringMatching(/^移动侦测已恢复/)]);
  }, 30_000);

  it('adds a repeat to the open alarm (evidence, count) instead of opening another', async () => {
    h = await harness();
    const e1 = await h.emit('door_forced', 'door-b3');
    const e2 = await h.emit('door_forced', 'door-b3');
    await h.advance(2000);
    const e3 = await h.emit('door_forced', 'door-b3');
    await h.emit('door_forced', 'door-b5'); // another door: its own alarm
    await h.advance(2000);
    const list = await alarms();
    expect(list.map((a) => [a.deviceId, a.count])).toEqual([
      ['door-b3', 3],
      ['door-b5', 1],
    ]);
    expect(list[0]!.evidence).toEqual([e1.id, e2.id, e3.id]);
  });

  it('flap filter: a threshold rule opens only when enough repeats fall inside its window', async () => {
    h = await harness({ start: NIGHT_START });
    await h.emit('motion', 'cam-perim-2');
    await h.advance(40_000, 10_000);
    await h.emit('motion', 'cam-perim-2');
    await h.advance(40_000, 10_000);
    await h.emit('motion', 'cam-perim-2'); // three, but spread over 80 s
    await h.settle();
    expect(await alarms()).toEqual([]);
    await h.advance(5000);
    await h.emit('motion', 'cam-perim-2');
    await h.advance(5000);
    await h.emit('motion', 'cam-perim-2'); // 3 within 60 s now
    await h.settle();
    expect((await alarms()).map((a) => [a.rule, a.deviceId, a.evidence.length])).toEqual([['perimeter-motion-night', 'cam-perim-2', 3]]);
  });

  it('after a person closes the alarm, repeats in the cooldown open nothing; later ones open a new alarm', async () => {
    h = await harness();
    await h.emit('door_forced', 'door-b3');
    await h.settle();
    const [first] = await alarms();
    await h.store.alarms.act(first!.id, 'false_alarm', '张保安', '门磁故障');
    await h.advance(60_000, 10_000);
    await h.emit('door_forced', 'door-b3');
    await h.advance(5000);
    expect((await alarms()).map((a) => a.status)).toEqual(['false_alarm']);
    await h.advance(300_000, 30_000);
    await h.emit('door_forced', 'door-b3');
    await h.settle();
    expect((await alarms()).map((a) => a.status)).toEqual(['false_alarm', 'new']);
  });

  it('a restore is noted in the history; the alarm stays for a person to close (or closes itself if the rule says resolve)', async () => {
    h = await harness({
      rules: {
        list: [{ type: 'event', id: 'water-leak', name: '水浸报警', level: 3, category: 'hazard', when: { kinds: ['water_leak'] }, restore: 'resolve' }],
      },
    });
    await h.emit('sos', 'sos-1');
    await h.advance(90_000, 10_000);
    await h.emit('sos', 'sos-1', { active: false });
    await h.advance(30_000); // a restore is written after 30 s of quiet
    const [sos] = await alarms();
    expect(sos!.status).toBe('new');
    const notes = (await h.store.alarms.history(sos!.id)).filter((x) => x.action === 'note').map((x) => x.note);
    expect(notes).toEqual(['一键报警已恢复（一键报警 3栋501），持续 90 秒']);
    // the site's own water-leak rule (replacing the built-in one) closes itself when the sensor dries
    await h.emit('water_leak', 'smoke-b5-1');
    await h.advance(10_000);
    await h.emit('water_leak', 'smoke-b5-1', { active: false });
    await h.advance(30_000);
    const leak = (await alarms()).find((a) => a.rule === 'water-leak')!;
    expect(leak.status).toBe('resolved');
    expect((await h.store.alarms.history(leak.id)).at(-1)).toMatchObject({
      action: 'resolve',
      actor: 'rule:water-leak',
      note: '水浸已恢复（5栋烟感），持续 10 秒，自动办结',
    });
  });
});
