import { z } from 'zod';
import { ALARM_CATEGORIES, categoryLabel } from '../../core/alarm.ts';
import type { PanelDeps } from '../deps.ts';
import { isDate, localDate, periodRange, startOfDate, type Period } from '../reports/calendar.ts';
import { alarmFigures, type Figures } from '../reports/figures.ts';
import { route, RequestError, type RouteDef } from '../route-table.ts';
import { SiteIndex } from '../site-index.ts';
import { serviceShare } from '../../core/uptime.ts';

/** 规范化运行率 target: share of time devices operate normally. */
export const UPTIME_TARGET = 0.9;

const reportQuery = z.object({
  period: z.enum(['day', 'week', 'month']).default('day'),
  date: z.string().refine(isDate, 'a date is YYYY-MM-DD').optional(),
});

export async function buildReport(deps: PanelDeps, period: Period, date: string | undefined) {
  const cfg = deps.config();
  const tz = cfg.site.timezone;
  const now = deps.clock.now();
  const day = date ?? localDate(now, tz);
  const range = periodRange(period, day, tz);
  if (range.from > now) throw new RequestError(400, 'future', `${day} is in the future`);
  const to = Math.min(range.to, now);
  const alarms = await deps.data.queries.alarmsForReport(range.from, range.to);
  // Days still to come are left out of the per-day series.
  const days = range.days.filter((d) => startOfDate(d, tz) <= now);
  const figures = alarmFigures(alarms, days, tz);
  const site = new SiteIndex(cfg);
  const enabled = cfg.devices.filter((x) => x.enabled);
  const changes = await deps.data.queries.serviceChanges(
    range.from,
    enabled.map((d) => d.id),
  );
  const devices = enabled.map((d) => {
    const u = serviceShare(changes.get(d.id) ?? [], range.from, to);
    return { id: d.id, name: d.name, kind: d.kind, grid: d.grid, uptime: u.ratio, downSeconds: Math.round(u.downMs / 1000) };
  });
  // Over the devices observed in the period: one the box never saw has no share to average.
  const observed = devices.filter((d) => d.uptime !== null).map((d) => d.uptime!);
  const mean = observed.length ? observed.reduce((s, r) => s + r, 0) / observed.length : null;
  return {
    site: { name: cfg.site.name, divisionCode: cfg.site.divisionCode, timezone: tz },
    period,
    date: day,
    first: range.first,
    days,
    from: range.from,
    to: range.to,
    generatedAt: now,
    ...figures,
    byGrid: figures.byGrid.map((g) => ({ ...g, gridName: site.grids.get(g.grid) ?? g.grid })),
    uptime: {
      target: UPTIME_TARGET,
      mean,
      meeting: observed.filter((r) => r >= UPTIME_TARGET).length,
      devices,
    },
  };
}

const pct = (r: number | null) => (r === null ? '' : (r * 100).toFixed(1));
const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s; // no formula injection when opened in a spreadsheet
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};
const row = (cells: unknown[]) => cells.map(csvCell).join(',');
const figs = (f: Figures) => [
  f.reported,
  f.accepted,
  f.closed,
  pct(f.closureRate),
  f.falseAlarms,
  f.overdue,
  f.meanAcceptSeconds ?? '',
  f.meanCloseSeconds ?? '',
];
const HEAD = [
  '上报数 reported',
  '受理数 accepted',
  '办结数 closed',
  '办结率% closure rate',
  '误报 false alarms',
  '超时 overdue',
  '平均受理秒 mean s to accept',
  '平均办结秒 mean s to close',
];

/** Reports by day, week and month: figures by category and grid, per day for the charts, device uptime; JSON and CSV. */
export function reportRoutes(deps: PanelDeps): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/reports',
      allow: 'reports',
      kind: 'api',
      summary: 'Report for a day, week or month: alarms by category, grid and day; 办结率; mean times; device uptime (规范化运行率)',
      schema: { querystring: reportQuery },
      handler: async ({ query }) => buildReport(deps, query.period, query.date),
    }),
    route({
      method: 'GET',
      url: '/reports.csv',
      allow: 'reports',
      kind: 'api',
      summary: 'The same report as CSV (UTF-8 with BOM, opens in a spreadsheet)',
      schema: { querystring: reportQuery },
      handler: async ({ query, reply }) => {
        const r = await buildReport(deps, query.period, query.date);
        const lines = [
          row([`${r.site.name} ${r.period} ${r.first}..${r.days[r.days.length - 1]}`]),
          row(['分类 category', ...HEAD]),
          ...ALARM_CATEGORIES.map((c) => row([categoryLabel[c], ...figs(r.byCategory[c])])),
          row(['合计 total', ...figs(r.totals)]),
          '',
          row(['网格 grid', ...HEAD]),
          ...r.byGrid.map((g) => row([`${g.gridName} (${g.grid})`, ...figs(g.figures)])),
          '',
          row(['日期 date', ...HEAD]),
          ...r.byDay.map((d) => row([d.date, ...figs(d.figures)])),
          '',
          row(['设备 device', '类型 kind', '网格 grid', '在线率% uptime', '离线秒 down s']),
          ...r.uptime.devices.map((d) => row([`${d.name} (${d.id})`, d.kind, d.grid, pct(d.uptime), d.downSeconds])),
          row(['规范化运行率% mean uptime', '', '', pct(r.uptime.mean), '']),
        ];
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="report-${r.period}-${r.first}.csv"`)
          .send(`\ufeff${lines.join('\r\n')}\r\n`);
      },
    }),
  ];
}
