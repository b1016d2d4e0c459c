import { ALARM_CATEGORIES, type AlarmCategory } from '../core/alarm.ts';
import type { AlarmStats, StatsReport, Uptime } from '../core/county.ts';
import type { Db } from './db.ts';

const DAY = 86_400_000;

interface Row {
  category: AlarmCategory;
  grid: string | null;
  status: string;
  opened_at: number;
  overdue: number;
  accepted_at: number | null;
  closed_at: number | null;
}

/**
 * The figures the county reads (上报数 / 办结数 / 办结率, mean time to accept
 * and to close, by category and grid) and device uptime (规范化运行率) from
 * the status transitions.
 *
 * An alarm counts as accepted from its first handling step (受理, or a
 * dispatch/close straight from new) and as closed (办结) once resolved or
 * marked a false alarm; false alarms are also counted on their own.
 */
export class CountyStats {
  constructor(private readonly reader: Db) {}

  async stats(from: number, to: number): Promise<StatsReport> {
    const rows = await this.reader.all<Row>(
      `SELECT a.category, a.grid, a.status, a.opened_at, a.overdue,
         (SELECT MIN(at) FROM alarm_history h WHERE h.alarm_id = a.id AND h.action IN ('accept', 'dispatch', 'resolve', 'false_alarm')) AS accepted_at,
         (SELECT MIN(at) FROM alarm_history h WHERE h.alarm_id = a.id AND h.action IN ('resolve', 'false_alarm')) AS closed_at
       FROM alarms a WHERE a.opened_at >= ? AND a.opened_at < ?`,
      [from, to],
    );
    const byCategory = new Map<AlarmCategory, Row[]>(ALARM_CATEGORIES.map((c) => [c, []]));
    const byGrid = new Map<string | null, Row[]>();
    for (const r of rows) {
      byCategory.get(r.category)?.push(r);
      const g = byGrid.get(r.grid) ?? [];
      g.push(r);
      byGrid.set(r.grid, g);
    }
    return {
      total: figures(rows, from, to),
      byCategory: [...byCategory].map(([category, rs]) => ({ category, ...figures(rs, from, to) })),
      byGrid: [...byGrid].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([grid, rs]) => ({ grid, ...figures(rs, from, to) })),
    };
  }

  /** Share of observed time online over the last 24 h and 30 d, per device; unknown stretches (box off, not yet seen) are left out. */
  async uptime(deviceIds: readonly string[], now: number): Promise<Map<string, Uptime>> {
    const since = now - 30 * DAY;
    const rows = await this.reader.all<{ device_id: string; at: number; online: number | null }>(
      `SELECT device_id, at, online FROM device_transitions WHERE at >= ?
       UNION ALL
       SELECT device_id, at, online FROM device_transitions WHERE seq IN (SELECT MAX(seq) FROM device_transitions WHERE at < ? GROUP BY device_id)
       ORDER BY device_id, at`,
      [since, since],
    );
    const per = new Map<string, { at: number; online: number | null }[]>();
    for (const r of rows) {
      const l = per.get(r.device_id) ?? [];
      l.push(r);
      per.set(r.device_id, l);
    }
    const out = new Map<string, Uptime>();
    for (const id of deviceIds) {
      const t = per.get(id) ?? [];
      out.set(id, { last24h: share(t, now - DAY, now), last30d: share(t, since, now) });
    }
    return out;
  }
}

function share(transitions: { at: number; online: number | null }[], from: number, to: number): number | null {
  let on = 0;
  let seen = 0;
  for (let i = 0; i < transitions.length; i++) {
    const t = transitions[i]!;
    const start = Math.max(from, t.at);
    const end = Math.min(to, transitions[i + 1]?.at ?? to);
    if (end <= start || t.online === null) continue;
    seen += end - start;
    if (t.online === 1) on += end - start;
  }
  return seen > 0 ? Math.round((on / seen) * 10_000) / 10_000 : null;
}

function figures(rows: Row[], from: number, to: number): AlarmStats {
  const accepted = rows.filter((r) => r.accepted_at !== null);
  const closed = rows.filter((r) => r.closed_at !== null);
  const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length / 100) / 10 : null);
  return {
    from,
    to,
    reported: rows.length,
    accepted: accepted.length,
    closed: closed.length,
    falseAlarms: rows.filter((r) => r.status === 'false_alarm').length,
    closureRate: rows.length ? Math.round((closed.length / rows.length) * 10_000) / 10_000 : null,
    meanTimeToAcceptSeconds: mean(accepted.map((r) => r.accepted_at! - r.opened_at)),
    meanTimeToCloseSeconds: mean(closed.map((r) => r.closed_at! - r.opened_at)),
    overdue: rows.filter((r) => r.overdue === 1).length,
  };
}
