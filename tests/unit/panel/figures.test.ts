import { describe, expect, it } from 'vitest';
import { addDays, localDate, periodRange, startOfDate } from '../../../gateway/panel/reports/calendar.ts';
import { alarmFigures } from '../../../gateway/panel/reports/figures.ts';
import type { ReportAlarm } from '../../../gateway/core/alarm-figures.ts';

const H = 3_600_000;
const TZ = 'Asia/Shanghai';

describe('report calendar in the site time zone', () => {
  it('cuts days at local midnight, weeks Monday to Sunday, months on the 1st', () => {
    expect(startOfDate('2026-11-21', TZ)).toBe(Date.UTC(2026, 10, 20, 16));
    expect(localDate(Date.UTC(2026, 10, 20, 15, 59), TZ)).toBe('2026-11-20');
    expect(localDate(Date.UTC(2026, 10, 20, 16, 0), TZ)).toBe('2026-11-21');
    const w = periodRange('week', '2026-11-21', TZ); // a Saturday
    expect(w.first).toBe('2026-11-16');
    expect(w.days).toHaveLength(7);
    expect(w.to - w.from).toBe(7 * 24 * H);
    const m = periodRange('month', '2026-02-14', TZ);
    expect(m.days).toEqual(Array.from({ length: 28 }, (_, i) => addDays('2026-02-01', i)));
  });

  it('handles a zone with daylight saving (a 23-hour day)', () => {
    const d = periodRange('day', '2026-03-08', 'America/New_York');
    expect(d.to - d.from).toBe(23 * H);
  });
});

describe('alarm figures', () => {
  const base = Date.UTC(2026, 10, 20, 16); // 2026-11-21 00:00 in Shanghai
  const a = (over: Partial<ReportAlarm>): ReportAlarm => ({
    id: Math.random().toString(36),
    level: 2,
    category: 'public_order',
    grid: 'g1',
    status: 'new',
    openedAt: base + H,
    overdue: false,
    escalated: false,
    acceptedAt: null,
    closedAt: null,
    ...over,
  });

  it('counts reported, accepted, closed, 办结率 and mean times by category, grid and day', () => {
    const alarms = [
      a({ status: 'resolved', acceptedAt: base + H + 60_000, closedAt: base + 2 * H }),
      a({ status: 'false_alarm', acceptedAt: base + H + 180_000, closedAt: base + H + 600_000, category: 'fire', grid: 'g2' }),
      a({ status: 'accepted', acceptedAt: base + H + 120_000, overdue: true }),
      a({ openedAt: base + 25 * H }),
    ];
    const r = alarmFigures(alarms, ['2026-11-21', '2026-11-22'], TZ);
    expect(r.totals).toMatchObject({ reported: 4, accepted: 3, closed: 2, resolved: 1, falseAlarms: 1, overdue: 1, closureRate: 0.5 });
    expect(r.totals.meanAcceptSeconds).toBe(120);
    expect(r.totals.meanCloseSeconds).toBe((3600 + 600) / 2);
    expect(r.byCategory.fire).toMatchObject({ reported: 1, closed: 1, closureRate: 1 });
    expect(r.byCategory.help).toMatchObject({ reported: 0, closureRate: null, meanAcceptSeconds: null });
    expect(r.byGrid.map((g) => [g.grid, g.figures.reported])).toEqual([
      ['g1', 3],
      ['g2', 1],
    ]);
    expect(r.byDay.map((d) => d.figures.reported)).toEqual([3, 1]);
    expect(r.byDay[0]!.byCategory).toMatchObject({ public_order: 2, fire: 1 });
  });
});
