import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, end, publish } from '../../helpers/mqtt.ts';
import { Client, eventStream, openAlarm, setupManager, startPanelApp, userWithRole, type PanelApp } from './helpers.ts';

let p: PanelApp;
let manager: Client;
let guard: Client;
let guard2: Client;
let viewer: Client;

beforeAll(async () => {
  p = await startPanelApp();
  manager = await setupManager(p);
  guard = await userWithRole(p, manager, 'guard', 'baoan1');
  guard2 = await userWithRole(p, manager, 'guard', 'baoan2');
  viewer = await userWithRole(p, manager, 'viewer', 'minjing');
});
afterAll(() => p.stop());

describe('alarm board', () => {
  it('pushes a new alarm to open boards within a second of the rule opening it, with its place and device', async () => {
    const s = await eventStream(guard);
    const t0 = Date.now();
    const a = await openAlarm(p);
    const got = await s.wait('alarm', (x) => x.id === a.id, 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(got).toMatchObject({
      status: 'new',
      level: 1,
      deviceName: '1栋1单元门',
      gridName: '一网格',
      place: { building: '1栋', unit: '1单元' },
      overdueNow: false,
    });
    s.close();
  });

  it('stores an MQTT event from a door and shows it as evidence of the alarm opened from it', async () => {
    const s = await eventStream(guard);
    const door = await connect(p.mqttUrl, { clientId: 'door-2', username: 'door-2', password: 'door-2-demo' });
    await publish(door, 'sw/v1/door-2/event', JSON.stringify({ id: 'e-1', type: 'door', state: 'forced' }));
    const ev = await s.wait('event', (x) => x.deviceId === 'door-2' && x.kind === 'door_forced');
    const a = await openAlarm(p, { deviceId: 'door-2', evidence: [ev.id], title: '2单元门被强行打开' });
    const detail = await guard.get(`/api/alarms/${a.id}`);
    expect(detail.body.evidence).toEqual([
      expect.objectContaining({ id: ev.id, deviceId: 'door-2', deviceName: '1栋2单元门', kind: 'door_forced', active: true }),
    ]);
    expect(detail.body.deviceCommands).toEqual({ id: 'door-2', name: '1栋2单元门', kind: 'access_controller', commands: ['unlock'] });
    await end(door);
    s.close();
  });

  it('sorts by level then age and filters by level, status, grid and category', async () => {
    const now = Date.now();
    const old3 = await openAlarm(p, { level: 3, category: 'hazard', title: 'L3 old', openedAt: now - 3000 });
    const new1 = await openAlarm(p, { level: 1, category: 'fire', title: 'L1 new', openedAt: now - 1000 });
    const old1 = await openAlarm(p, { level: 1, category: 'fire', title: 'L1 old', openedAt: now - 2000 });
    const r = await guard.get('/api/alarms?category=fire');
    expect(r.body.alarms.map((a: { id: string }) => a.id)).toEqual([old1.id, new1.id]);
    const all = (await guard.get('/api/alarms')).body.alarms.map((a: { id: string }) => a.id);
    expect(all.indexOf(old3.id)).toBe(all.length - 1);
    expect((await guard.get('/api/alarms?level=3')).body.alarms.map((a: { id: string }) => a.id)).toEqual([old3.id]);
    expect((await guard.get('/api/alarms?grid=nope')).body.alarms).toEqual([]);
    expect((await guard.get('/api/alarms?level=7')).status).toBe(400);
  });

  it('marks an alarm past its accept deadline as overdue', async () => {
    const a = await openAlarm(p, { openedAt: Date.now() - 10 * 60_000, acceptBy: Date.now() - 5 * 60_000 });
    expect((await guard.get(`/api/alarms/${a.id}`)).body.alarm.overdueNow).toBe(true);
  });
});

describe('handling an alarm', () => {
  it('受理 → 处置 (with a note) → 办结, each step with who and when, audited, pushed live', async () => {
    const a = await openAlarm(p);
    const s = await eventStream(viewer);
    expect((await guard.post(`/api/alarms/${a.id}/actions`, { action: 'accept' })).body.alarm.status).toBe('accepted');
    const noNote = await guard.post(`/api/alarms/${a.id}/actions`, { action: 'dispatch' });
    expect(noNote.status).toBe(400);
    expect(noNote.body.message).toMatch(/body\.note: .*need a note/);
    expect((await guard.post(`/api/alarms/${a.id}/actions`, { action: 'dispatch', note: '保安已到现场，门锁损坏' })).body.alarm.status).toBe('dispatched');
    expect((await manager.post(`/api/alarms/${a.id}/actions`, { action: 'resolve', note: '已更换门锁' })).body.alarm.status).toBe('resolved');
    await s.wait('alarm', (x) => x.id === a.id && x.status === 'resolved');

    const d = (await viewer.get(`/api/alarms/${a.id}`)).body;
    expect(d.history.map((h: { action: string; actor: string; note?: string }) => [h.action, h.actor, h.note ?? null])).toEqual([
      ['open', 'rule:door_forced', null],
      ['accept', 'baoan1', null],
      ['dispatch', 'baoan1', '保安已到现场，门锁损坏'],
      ['resolve', 'wangjl', '已更换门锁'],
    ]);
    for (const h of d.history) expect(h.at).toBeGreaterThan(Date.now() - 60_000);
    const audit = await p.app.store.audit.list({ action: 'alarm.' });
    const mine = audit.filter((e) => e.target === a.id).map((e) => `${e.actor} ${e.action} ${e.outcome}`);
    expect(mine.reverse()).toEqual(['baoan1 alarm.accept ok', 'baoan1 alarm.dispatch ok', 'wangjl alarm.resolve ok']);
    // Closed is closed.
    expect((await guard.post(`/api/alarms/${a.id}/actions`, { action: 'escalate' })).status).toBe(409);
    s.close();
  });

  it('two guards pressing 受理 at once: one acceptance, one clear refusal', async () => {
    const a = await openAlarm(p);
    const [r1, r2] = await Promise.all([
      guard.post(`/api/alarms/${a.id}/actions`, { action: 'accept' }),
      guard2.post(`/api/alarms/${a.id}/actions`, { action: 'accept' }),
    ]);
    expect([r1.status, r2.status].sort()).toEqual([200, 409]);
    const refused = r1.status === 409 ? r1 : r2;
    expect(refused.body).toMatchObject({ error: 'transition', status: 'accepted' });
    const history = (await guard.get(`/api/alarms/${a.id}`)).body.history.filter((h: { action: string }) => h.action === 'accept');
    expect(history).toHaveLength(1);
  });

  it('误报 and 上报 are recorded; a viewer may read but not act', async () => {
    const a = await openAlarm(p);
    expect((await viewer.post(`/api/alarms/${a.id}/actions`, { action: 'accept' })).status).toBe(403);
    expect((await guard.post(`/api/alarms/${a.id}/actions`, { action: 'escalate', note: '疑似团伙作案' })).body.alarm).toMatchObject({
      escalated: true,
      status: 'new',
    });
    expect((await guard.post(`/api/alarms/${a.id}/actions`, { action: 'false_alarm', note: '住户忘带门卡' })).body.alarm.status).toBe('false_alarm');
    expect((await guard.get(`/api/alarms?status=closed`)).body.alarms.map((x: { id: string }) => x.id)).toContain(a.id);
  });

  it('shows what the county wrote back', async () => {
    const a = await openAlarm(p);
    await p.app.store.alarms.act(a.id, 'county_status', 'county', '督办');
    const d = (await guard.get(`/api/alarms/${a.id}`)).body;
    expect(d.county.status).toBe('督办');
    expect(d.county.history).toEqual([expect.objectContaining({ action: 'county_status', actor: 'county', note: '督办' })]);
  });
});
