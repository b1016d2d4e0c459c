import { describe, expect, it } from 'vitest';
import { coverage } from '../../../cloud-bridge/pull-api/coverage.ts';
import { LongPolls } from '../../../cloud-bridge/pull-api/long-poll.ts';
import { RateLimiter } from '../../../cloud-bridge/pull-api/rate-limit.ts';
import { TokenGate } from '../../../cloud-bridge/pull-api/tokens.ts';
import type { DeviceInfo, FeedPage } from '../../../gateway/core/county.ts';

const cam = (id: string, grid: string, point: string, enabled = true): DeviceInfo => ({
  id,
  name: id,
  kind: 'onvif_camera',
  grid,
  place: { point },
  gbId: null,
  enabled,
  eventsEnabled: true,
});

describe('coverage', () => {
  const grids = [
    { code: 'g1', name: '一组' },
    { code: 'g2', name: '二组' },
  ];
  it('checks an administrative village against 5 camera points, counting configured and online ones, by grid', () => {
    const devices = [
      cam('c1', 'g1', 'gate'),
      cam('c2', 'g1', 'intersection'),
      cam('c3', 'g2', 'public_area'),
      cam('c4', 'g2', 'intersection'),
      cam('c5', 'g2', 'perimeter', false),
    ];
    const east = { id: 'v1', name: '东组', cameras: ['c2', 'c4'] };
    const c = coverage({ boxId: 'b', name: '新桥村', divisionCode: '320602101201', kind: 'admin_village' }, grids, devices, [east], (id) => id !== 'c3');
    expect(c).toMatchObject({ rule: { required: 5, counts: 'camera_points' }, compliant: false, missing: 1, total: { cameras: 4, onlineCameras: 3 } });
    expect(c.grids).toEqual([
      { grid: 'g1', name: '一组', cameras: 2, intersectionCameras: 1, onlineCameras: 2, byPoint: { gate: 1, intersection: 1 } },
      { grid: 'g2', name: '二组', cameras: 2, intersectionCameras: 1, onlineCameras: 1, byPoint: { public_area: 1, intersection: 1 } },
    ]);
    const five = coverage(
      { boxId: 'b', name: '新桥村', divisionCode: '320602101201', kind: 'admin_village' },
      grids,
      [...devices, cam('c6', 'g1', 'gate')],
      [east],
      (id) => id !== 'c4',
    );
    expect(five).toMatchObject({ compliant: true, compliantOnline: false, missing: 0, problems: [] });
    expect(five.villages).toEqual([{ id: 'v1', name: '东组', intersectionCameras: 2, onlineIntersectionCameras: 1, required: 2, compliant: true }]);
  });

  it('holds an administrative village to the installer’s check: each recorded natural village needs 2 intersection cameras', () => {
    const devices = ['c1', 'c2', 'c3', 'c4', 'c5'].map((id, i) => cam(id, 'g1', i < 3 ? 'intersection' : 'gate'));
    const site = { boxId: 'b', name: '新桥村', divisionCode: '320602101201', kind: 'admin_village' };
    const none = coverage(site, grids, devices, [], () => true);
    expect(none).toMatchObject({ compliant: false, missing: 0, problems: [expect.stringMatching(/no natural villages/)] });
    const villages = [
      { id: 'v1', name: '东组', cameras: ['c1', 'c2'] },
      { id: 'v2', name: '西组', cameras: ['c3', 'c4'] },
    ];
    const west = coverage(site, grids, devices, villages, () => true);
    expect(west.compliant).toBe(false);
    // The site has its 5 points; 西组 needs one more intersection camera.
    expect(west.missing).toBe(1);
    expect(west.villages.map((v) => [v.name, v.intersectionCameras, v.compliant])).toEqual([
      ['东组', 2, true],
      ['西组', 1, false],
    ]);
    expect(west.problems).toEqual([expect.stringContaining('西组: 1 camera(s) at main intersections, needs 2')]);
  });

  it('checks a natural village against 2 cameras at main intersections; an estate has no count rule', () => {
    const devices = [cam('c1', 'g1', 'intersection'), cam('c2', 'g1', 'gate'), cam('c3', 'g2', 'intersection')];
    const nat = coverage({ boxId: 'b', name: '王家庄', divisionCode: '320602101202', kind: 'natural_village' }, grids, devices, [], (id) => id === 'c1');
    expect(nat).toMatchObject({ rule: { required: 2, counts: 'intersection_camera_points' }, compliant: true, compliantOnline: false, missing: 0 });
    const estate = coverage({ boxId: 'b', name: '锦绣花园', divisionCode: '320602001001', kind: 'urban_estate' }, grids, devices, [], () => true);
    expect(estate).toMatchObject({ rule: null, compliant: null, missing: null, total: { cameras: 3 } });
  });
});

describe('rate limiter', () => {
  it('lets a burst through, then one request per refill interval, and says how long to wait', () => {
    let now = 0;
    const rl = new RateLimiter(60, () => now, 5);
    expect(Array.from({ length: 6 }, () => rl.take('a'))).toEqual([0, 0, 0, 0, 0, 1000]);
    expect(rl.take('b')).toBe(0); // keys are separate
    now += 1000;
    expect(rl.take('a')).toBe(0);
    expect(rl.take('a')).toBe(1000);
  });
});

describe('token gate', () => {
  it('finds the consumer by checking every configured token, and remembers a good one without checking again', async () => {
    const checks: string[] = [];
    const secrets: Record<string, string> = { reader: 'token-for-reader', ops: 'token-for-ops' };
    const gate = new TokenGate(
      {
        names: ['reader', 'ops'],
        verify: async (name, secret) => {
          checks.push(name);
          return secrets[name] === secret;
        },
      },
      [
        { name: 'reader', scopes: ['read'] },
        { name: 'ops', scopes: ['read', 'write_back'] },
      ],
      () => 0,
    );
    expect(await gate.identify('token-for-ops')).toEqual({ name: 'ops', scopes: ['read', 'write_back'] });
    expect(checks).toEqual(['reader', 'ops']); // every one, not just until a match
    checks.length = 0;
    expect((await gate.identify('token-for-ops'))?.name).toBe('ops');
    expect(checks).toEqual([]);
    expect(await gate.identify('token-for-nobody')).toBeNull();
    expect(await gate.identify('')).toBeNull();
    expect(checks).toEqual(['reader', 'ops']);
  });
});

describe('long-poll', () => {
  const empty: FeedPage<number> = { items: [], nextCursor: 0 };
  it('wakes on a change that lands while it waits, and answers at once when the server closes', async () => {
    const polls = new LongPolls();
    const listeners = new Set<() => void>();
    const subscribe = (fn: () => void) => {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    };
    let data: number[] = [];
    const read = async () => ({ items: data, nextCursor: data.length });
    const p = polls.poll(read, subscribe, 10_000, () => {});
    await new Promise((r) => setTimeout(r, 20));
    expect(polls.waiting).toBe(1);
    data = [1];
    for (const fn of listeners) fn();
    expect(await p).toEqual({ items: [1], nextCursor: 1 });
    expect(listeners.size).toBe(0);

    const q = polls.poll(
      async () => empty,
      subscribe,
      10_000,
      () => {},
    );
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    polls.closeAll();
    expect(await q).toEqual(empty);
    expect(Date.now() - t0).toBeLessThan(100);
  });

  it('does not miss a change that lands between its read and its wait', async () => {
    const polls = new LongPolls();
    let fire: (() => void) | null = null;
    let reads = 0;
    const read = async () => {
      reads++;
      if (reads === 1) fire!(); // the change commits while the first read is running
      return reads === 1 ? empty : { items: [7], nextCursor: 1 };
    };
    const t0 = Date.now();
    const page = await polls.poll(
      read,
      (fn) => ((fire = fn), () => {}),
      10_000,
      () => {},
    );
    expect(page.items).toEqual([7]);
    expect(Date.now() - t0).toBeLessThan(500);
  });
});
