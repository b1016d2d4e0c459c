import type { AlarmCategory, AlarmLevel, AlarmStatus } from '../core/alarm.ts';
import type { ReportAlarm } from '../core/alarm-figures.ts';
import type { ServiceChange } from '../core/uptime.ts';
import { alarmsOpenedIn } from './alarm-report.ts';
import type { Db } from './db.ts';
import { timelineSeqs } from './event-index.ts';
import { serviceChanges } from './service-history.ts';

export type AlarmStatusFilter = 'open' | 'closed' | 'all' | AlarmStatus;

export interface AlarmFilter {
  status?: AlarmStatusFilter;
  level?: AlarmLevel;
  grid?: string;
  category?: AlarmCategory;
  /** Only alarms opened at or after this time. */
  since?: number;
  limit?: number;
}

export interface LastEvent {
  deviceId: string;
  seq: number;
  id: string;
  kind: string;
  active: boolean;
  at: number;
}

/** The panel's reads over the spine's tables (alarms, events, commands), on its own read-only connection. */
export class PanelQueries {
  constructor(private readonly reader: Db) {}

  /** Alarm ids matching a filter, most urgent first: level, then oldest. */
  async alarmIds(f: AlarmFilter): Promise<string[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      where.push(sql);
      params.push(value);
    };
    const s = f.status ?? 'open';
    if (s === 'open') where.push(`status NOT IN ('resolved','false_alarm')`);
    else if (s === 'closed') where.push(`status IN ('resolved','false_alarm')`);
    else if (s !== 'all') add('status = ?', s);
    if (f.level !== undefined) add('level = ?', f.level);
    if (f.grid !== undefined) add('grid = ?', f.grid);
    if (f.category !== undefined) add('category = ?', f.category);
    if (f.since !== undefined) add('opened_at >= ?', f.since);
    const order = s === 'open' ? 'level, opened_at' : 'opened_at DESC';
    params.push(Math.min(Math.max(f.limit ?? 200, 1), 1000));
    const rows = await this.reader.all<{ id: string }>(
      `SELECT id FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`,
      params,
    );
    return rows.map((r) => r.id);
  }

  /** Ids of the commands run for an alarm (linkage, or a guard acting from its page). */
  async commandIdsForAlarm(alarmId: string): Promise<string[]> {
    const rows = await this.reader.all<{ id: string }>('SELECT id FROM commands WHERE alarm_id = ? ORDER BY created_at', [alarmId]);
    return rows.map((r) => r.id);
  }

  /** Alarms opened in [from, to), for the reports. */
  alarmsForReport(from: number, to: number): Promise<ReportAlarm[]> {
    return alarmsOpenedIn(this.reader, from, to);
  }

  /** The newest event of one device (a seek on its timeline). */
  async lastEvent(deviceId: string): Promise<LastEvent | undefined> {
    return (await this.recentEvents(deviceId, 1))[0];
  }

  /** The newest events of one device, newest first. */
  async recentEvents(deviceId: string, limit: number): Promise<LastEvent[]> {
    const seqs = timelineSeqs('device', { keys: [deviceId], order: 'DESC', limit });
    const rows = await this.reader.all<{ seq: number; id: string; kind: string; active: number; received_at: number }>(
      `SELECT e.seq, e.id, e.kind, e.active, e.received_at FROM (${seqs.sql}) t JOIN events e ON e.seq = t.seq ORDER BY e.seq DESC`,
      seqs.params,
    );
    return rows.map((r) => ({ deviceId, seq: r.seq, id: r.id, kind: r.kind, active: r.active === 1, at: r.received_at }));
  }

  /** Devices' in-service changes since `since` (store/service-history.ts): the panel's uptime, computed as the county's is. */
  serviceChanges(since: number, deviceIds: readonly string[]): Promise<Map<string, ServiceChange[]>> {
    return serviceChanges(this.reader, since, deviceIds);
  }
}
