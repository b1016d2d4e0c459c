import { ALARM_CATEGORIES, type AlarmCategory } from '../core/alarm.ts';
import { AlarmTallier, type ReportAlarm } from '../core/alarm-figures.ts';
import type { AlarmStats, StatsReport, Uptime } from '../core/county.ts';
import { serviceShare, type ServiceChange } from '../core/uptime.ts';
import { alarmsOpenedIn } from './alarm-report.ts';
import type { Db } from './db.ts';
import { serviceChanges } from './service-history.ts';

const DAY = 86_400_000;

/**
 * The figures the county reads (上报数 / 办结数 / 办结率, mean time to accept
 * and to close, by category and grid) and device uptime (规范化运行率) from
 * the status transitions. The alarm figures are the panel reports' own
 * (core/alarm-figures.ts), over the same alarms.
 */
export class CountyStats {
  constructor(private readonly reader: Db) {}

  async stats(from: number, to: number): Promise<StatsReport> {
    const alarms = await alarmsOpenedIn(this.reader, from, to);
    const byCategory = new Map<AlarmCategory, ReportAlarm[]>(ALARM_CATEGORIES.map((c) => [c, []]));
    const byGrid = new Map<string | null, ReportAlarm[]>();
    for (const a of alarms) {
      byCategory.get(a.category)?.push(a);
      const g = byGrid.get(a.grid) ?? [];
      g.push(a);
      byGrid.set(a.grid, g);
    }
    return {
      total: figures(alarms, from, to),
      byCategory: [...byCategory].map(([category, as]) => ({ category, ...figures(as, from, to) })),
      byGrid: [...byGrid].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([grid, as]) => ({ grid, ...figures(as, from, to) })),
    };
  }

  /** Share of observed time in service (core/uptime.ts) over the last 24 h and 30 d, per device; unknown stretches (box off, not yet seen) are left out. */
  async uptime(deviceIds: readonly string[], now: number): Promise<Map<string, Uptime>> {
    const since = now - 30 * DAY;
    const per = await serviceChanges(this.reader, since, deviceIds);
    const share = (changes: readonly ServiceChange[], from: number) => {
      const r = serviceShare(changes, from, now).ratio;
      return r === null ? null : Math.round(r * 10_000) / 10_000;
    };
    const out = new Map<string, Uptime>();
    for (const id of deviceIds) {
      const t = per.get(id) ?? [];
      out.set(id, { last24h: share(t, now - DAY), last30d: share(t, since) });
    }
    return out;
  }
}

function figures(alarms: readonly ReportAlarm[], from: number, to: number): AlarmStats {
  const tally = new AlarmTallier();
  for (const a of alarms) tally.add(a);
  const t = tally.tally();
  const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);
  return {
    from,
    to,
    reported: t.reported,
    accepted: t.accepted,
    closed: t.closed,
    falseAlarms: t.falseAlarms,
    closureRate: t.closureRate === null ? null : Math.round(t.closureRate * 10_000) / 10_000,
    meanTimeToAcceptSeconds: seconds(t.meanAcceptMs),
    meanTimeToCloseSeconds: seconds(t.meanCloseMs),
    overdue: t.overdue,
  };
}
