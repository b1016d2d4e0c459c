import type { AlarmCategory, AlarmLevel, AlarmStatus } from '../core/alarm.ts';
import type { ReportAlarm } from '../core/alarm-figures.ts';
import type { Db } from './db.ts';

/**
 * Alarms opened in [from, to) with the time of the first human response (受理, or a direct 处置/办结/误报) and of
 * the first closing: what the panel's reports and the county's /stats count, read one way for both.
 */
export async function alarmsOpenedIn(reader: Db, from: number, to: number): Promise<ReportAlarm[]> {
  const rows = await reader.all<{
    id: string;
    level: AlarmLevel;
    category: AlarmCategory;
    grid: string | null;
    status: AlarmStatus;
    opened_at: number;
    overdue: number;
    escalated: number;
    accepted_at: number | null;
    closed_at: number | null;
  }>(
    `SELECT a.id, a.level, a.category, a.grid, a.status, a.opened_at, a.overdue, a.escalated,
       (SELECT MIN(h.at) FROM alarm_history h WHERE h.alarm_id = a.id AND h.action IN ('accept','dispatch','resolve','false_alarm')) AS accepted_at,
       (SELECT MIN(h.at) FROM alarm_history h WHERE h.alarm_id = a.id AND h.action IN ('resolve','false_alarm')) AS closed_at
     FROM alarms a WHERE a.opened_at >= ? AND a.opened_at < ? ORDER BY a.opened_at`,
    [from, to],
  );
  return rows.map((r) => ({
    id: r.id,
    level: r.level,
    category: r.category,
    grid: r.grid,
    status: r.status,
    openedAt: r.opened_at,
    overdue: r.overdue === 1,
    escalated: r.escalated === 1,
    acceptedAt: r.accepted_at,
    closedAt: r.closed_at,
  }));
}
