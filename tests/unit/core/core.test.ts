import { describe, expect, it } from 'vitest';
import { applyAlarmAction, AlarmTransitionError, type Alarm } from '../../../gateway/core/alarm.ts';
import { Bus } from '../../../gateway/core/bus.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { DeviceEventSchema, laneOf, occurredAt, rawExcerpt, RAW_EXCERPT_MAX } from '../../../gateway/core/events.ts';
import { uuidv7, uuidv7Time } from '../../../gateway/core/ids.ts';
import { backoffMs } from '../../../gateway/core/outbox.ts';

describe('ids', () => {
  it('are RFC 9562 version 7, sort in creation order even within one millisecond, and carry their time', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7(1_790_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(ids[0]!)).toBeGreaterThanOrEqual(1_790_000_000_000);
    // a clock that steps back never makes an id sort before an earlier one
    const later = uuidv7(1_700_000_000_000);
    expect(later > ids.at(-1)!).toBe(true);
    // all 48 bits of the time: 2033 and the last millisecond a UUIDv7 can hold
    expect(uuidv7Time(uuidv7(2_000_000_000_000))).toBe(2_000_000_000_000);
    expect(uuidv7(2 ** 48 - 1).slice(0, 13)).toBe('ffffffff-ffff');
  });
});

describe('FakeClock', () => {
  it('fires timers in time order only when advanced, and keeps wall and monotonic time apart', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimer(50, () => fired.push('b'));
    clock.setTimer(10, () => {
      fired.push('a');
      clock.setTimer(100, () => fired.push('c'));
    });
    const cancelled = clock.setTimer(20, () => fired.push('x'));
    cancelled.cancel();
    clock.advance(60);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(1060);
    clock.jumpWall(-30_000);
    clock.advance(60);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.monotonic()).toBe(120);
    expect(clock.now()).toBe(1120 - 30_000);
  });
});

describe('events', () => {
  const base = { deviceId: 'panel-1', active: true, deviceTime: 5, receivedAt: 10, clockOffsetMs: -5, clockTrusted: false };

  it('validates attributes per kind and names the bad field', () => {
    expect(DeviceEventSchema.safeParse({ ...base, kind: 'zone_alarm', attrs: { zone: 4, zoneType: 'perimeter' } }).success).toBe(true);
    const bad = DeviceEventSchema.safeParse({ ...base, kind: 'zone_alarm', attrs: { zone: 0, zoneType: 'volcano' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['attrs.zone', 'attrs.zoneType']);
    expect(DeviceEventSchema.safeParse({ ...base, kind: 'teleport', attrs: {} }).success).toBe(false);
  });

  it('trusts device time only when the device clock is trusted', () => {
    expect(occurredAt({ deviceTime: 5, receivedAt: 10, clockTrusted: false })).toBe(10);
    expect(occurredAt({ deviceTime: 5, receivedAt: 10, clockTrusted: true })).toBe(5);
    expect(occurredAt({ deviceTime: null, receivedAt: 10, clockTrusted: true })).toBe(10);
  });

  it('sorts kinds into lanes: alarms, records, status', () => {
    expect([laneOf('door_forced'), laneOf('access_granted'), laneOf('motion'), laneOf('storage_loss')]).toEqual(['alarm', 'record', 'status', 'alarm']);
  });

  it('bounds raw excerpts', () => {
    expect(rawExcerpt('x'.repeat(5000))!.length).toBe(RAW_EXCERPT_MAX);
    expect(rawExcerpt(Buffer.from('{"a":1}'))).toBe('{"a":1}');
  });
});

describe('alarm workflow', () => {
  const alarm: Alarm = {
    id: 'a1',
    rule: 'r',
    level: 2,
    category: 'public_order',
    title: 't',
    status: 'new',
    deviceId: null,
    grid: null,
    openedAt: 0,
    updatedAt: 0,
    acceptBy: null,
    closeBy: null,
    escalated: false,
    overdue: false,
    count: 1,
    evidence: [],
    snapshots: [],
    countyStatus: null,
  };

  it('moves new → accepted → dispatched → resolved, recording who and when', () => {
    const a = applyAlarmAction(alarm, 'accept', '张保安', 100);
    expect(a.entry).toEqual({ at: 100, action: 'accept', actor: '张保安', from: 'new', to: 'accepted' });
    const d = applyAlarmAction(a.alarm, 'dispatch', '王经理', 200, '派保安到3栋');
    const r = applyAlarmAction(d.alarm, 'resolve', '张保安', 300, '已处置');
    expect(r.alarm).toMatchObject({ status: 'resolved', updatedAt: 300 });
  });

  it('keeps status on side actions and refuses moves from a closed alarm', () => {
    const e = applyAlarmAction(alarm, 'escalate', '王经理', 1, '上报综治中心');
    expect(e.alarm).toMatchObject({ status: 'new', escalated: true });
    const closed = applyAlarmAction(alarm, 'false_alarm', '张保安', 2, '风吹动树枝').alarm;
    expect(() => applyAlarmAction(closed, 'accept', '李保安', 3)).toThrow(AlarmTransitionError);
    expect(() => applyAlarmAction(closed, 'escalate', '李保安', 3)).toThrow(/cannot escalate an alarm that is false_alarm/);
    expect(applyAlarmAction(closed, 'county_status', 'county', 4, '督办').alarm.countyStatus).toBe('督办');
  });
});

describe('bus', () => {
  it('isolates a failing listener: the others still run and the error is reported', () => {
    const errors: string[] = [];
    const bus = new Bus<{ tick: number }>((topic, err) => errors.push(`${topic}: ${(err as Error).message}`));
    const got: number[] = [];
    bus.on('tick', () => {
      throw new Error('boom');
    });
    const off = bus.on('tick', (n) => got.push(n));
    bus.emit('tick', 1);
    off();
    bus.emit('tick', 2);
    expect(got).toEqual([1]);
    expect(errors).toEqual(['tick: boom', 'tick: boom']);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    expect(backoffMs(1, 1000, 300_000, () => 1)).toBe(1000);
    expect(backoffMs(4, 1000, 300_000, () => 1)).toBe(8000);
    expect(backoffMs(4, 1000, 300_000, () => 0)).toBe(4000);
    expect(backoffMs(40, 1000, 300_000, () => 1)).toBe(300_000);
  });
});
