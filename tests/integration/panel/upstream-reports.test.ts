import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { localDate } from '../../../gateway/panel/reports/calendar.ts';
import { openAlarm, setupManager, smallSiteYaml, startPanelApp, userWithRole, type PanelApp } from './helpers.ts';

let p: PanelApp | null = null;
// Devices that never connect go offline after the debounce, and the rules open an alarm for that: not within these tests.
const COUNTY_TOKEN = 'county-read-token-0123456789';
const quiet = smallSiteYaml({
  rules: { offlineDebounceSeconds: 3600 },
  countyApi: { enabled: true, tokens: [{ name: 'county', token: COUNTY_TOKEN, scopes: ['read'] }] },
});
afterEach(async () => {
  await p?.stop();
  p = null;
});

describe('upstream status', () => {
  it('shows the backlog per lane with its age, the drain rate, time to empty and dead letters with their reasons', async () => {
    const clock = new FakeClock(Date.now());
    p = await startPanelApp({ clock, site: quiet });
    const m = await setupManager(p);
    const viewer = await userWithRole(p, m, 'viewer', 'minjing');
    const { outbox } = p.app.store;
    // Clear what start-up queued, then a known backlog: 200 records, 5 alarms.
    await outbox.ack((await outbox.next(10_000)).map((e) => e.id));
    await outbox.enqueue(Array.from({ length: 200 }, (_, i) => ({ lane: 'record' as const, type: 'event' as const, occurredAt: clock.now(), body: { i } })));
    await outbox.enqueue(Array.from({ length: 5 }, (_, i) => ({ lane: 'alarm' as const, type: 'event' as const, occurredAt: clock.now(), body: { i } })));
    await p.app.panel.meter.sample();
    clock.advance(60_000);
    // In that minute the bridge delivered 100 records; 6 new ones came in; one alarm entry was refused for good.
    const batch = await outbox.next(1000);
    const poison = batch.find((e) => e.lane === 'alarm')!;
    await outbox.ack(
      batch
        .filter((e) => e.lane === 'record')
        .slice(0, 100)
        .map((e) => e.id),
    );
    await outbox.enqueue(Array.from({ length: 6 }, () => ({ lane: 'record' as const, type: 'event' as const, occurredAt: clock.now(), body: {} })));
    await outbox.deadLetter([poison.id], 'county answered 422: body.alarm.grid unknown');
    await p.app.panel.meter.sample();

    const r = (await viewer.get('/api/upstream')).body;
    expect(r.configured).toBeNull();
    expect(r.link).toBeNull(); // the bridge reports its connection; until it is there the page says so
    expect(r.lanes).toEqual([
      { lane: 'alarm', depth: 4, oldestCreatedAt: expect.any(Number), oldestAgeSeconds: 60 },
      { lane: 'record', depth: 106, oldestCreatedAt: expect.any(Number), oldestAgeSeconds: 60 },
      { lane: 'status', depth: 0, oldestCreatedAt: null, oldestAgeSeconds: null },
    ]);
    expect(r.depth).toBe(110);
    expect(r.rates.enqueuedPerSecond).toBeCloseTo(6 / 60, 5);
    expect(r.rates.drainedPerSecond).toBeCloseTo(101 / 60, 5); // 100 delivered + 1 dead-lettered left the queue
    expect(r.secondsToEmpty).toBe(Math.round(110 / (95 / 60)));
    expect(r.deadLetters).toEqual([expect.objectContaining({ id: poison.id, lane: 'alarm', reason: 'county answered 422: body.alarm.grid unknown' })]);
  });
});

describe('reports', () => {
  it('counts a day’s alarms by category and grid with 办结率 and mean times, as JSON and CSV, for managers and viewers only', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 21, 2, 0)); // 10:00 in Shanghai
    p = await startPanelApp({ clock, site: quiet });
    const m = await setupManager(p);
    const viewer = await userWithRole(p, m, 'viewer', 'minjing');
    const guard = await userWithRole(p, m, 'guard', 'baoan1');
    const a1 = await openAlarm(p, { openedAt: clock.now() });
    const a2 = await openAlarm(p, { openedAt: clock.now(), category: 'fire', level: 2 });
    await openAlarm(p, { openedAt: clock.now(), category: 'help', level: 3 });
    clock.advance(120_000);
    await guard.post(`/api/alarms/${a1.id}/actions`, { action: 'accept' });
    clock.advance(240_000);
    await guard.post(`/api/alarms/${a2.id}/actions`, { action: 'false_alarm', note: '厨房油烟' });
    clock.advance(600_000);
    await guard.post(`/api/alarms/${a1.id}/actions`, { action: 'resolve' });

    expect((await guard.get('/api/reports')).status).toBe(403);
    const r = (await viewer.get('/api/reports?period=day')).body;
    expect(r.date).toBe(localDate(clock.now(), 'Asia/Shanghai'));
    expect(r.totals).toMatchObject({
      reported: 3,
      accepted: 2,
      closed: 2,
      falseAlarms: 1,
      closureRate: 2 / 3,
      meanAcceptSeconds: (120 + 360) / 2,
      meanCloseSeconds: (960 + 360) / 2,
    });
    expect(r.byCategory.public_order).toMatchObject({ reported: 1, closed: 1, closureRate: 1 });
    expect(r.byGrid).toEqual([expect.objectContaining({ grid: '320602001001-01', gridName: '一网格', figures: expect.objectContaining({ reported: 3 }) })]);
    expect(r.uptime.devices.map((d: { id: string }) => d.id)).toEqual(['panel-1', 'door-1', 'door-2', 'sos-1', 'siren-1']);
    const month = (await viewer.get('/api/reports?period=month&date=2026-11-03')).body;
    expect(month.days).toHaveLength(21); // November up to today, the 21st
    expect(month.totals.reported).toBe(3);
    expect((await viewer.get('/api/reports?period=day&date=2026-11-31')).status).toBe(400);

    const csv = await viewer.get('/api/reports.csv?period=day');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const raw = Buffer.from(await (await fetch(`${p.base}/api/reports.csv?period=day`, { headers: { cookie: viewer.cookie! } })).arrayBuffer());
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // a BOM, so spreadsheets read it as UTF-8
    expect(csv.body).toContain('治安,1,1,1,100.0,0,0,120,960');
    expect(csv.body).toContain('合计 total,3,2,2,66.7,1,0,240,660');

    // The county's /stats over the same day counts the same alarms the same way.
    const county = await fetch(`${p.base}/api/county/v1/stats?from=${r.from}&to=${r.to}`, { headers: { authorization: `Bearer ${COUNTY_TOKEN}` } });
    const stats = (await county.json()) as { total: Record<string, unknown> };
    expect(stats.total).toMatchObject({
      reported: r.totals.reported,
      accepted: r.totals.accepted,
      closed: r.totals.closed,
      falseAlarms: r.totals.falseAlarms,
      closureRate: Math.round(r.totals.closureRate * 10_000) / 10_000,
      meanTimeToAcceptSeconds: r.totals.meanAcceptSeconds,
      meanTimeToCloseSeconds: r.totals.meanCloseSeconds,
    });
  });
});
