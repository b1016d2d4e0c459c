import type { AlarmHistoryEntry } from '../core/alarm.ts';
import type { AlarmFilter, ConsumerCursor, CountyStream, EventFilter, FeedAlarm, FeedPage, WriteBack, WriteBackResult } from '../core/county.ts';
import { laneIndex, type StoredEvent } from '../core/events.ts';
import { fromRow as alarmFromRow, type AlarmRow } from './alarms.ts';
import { timelineSeqs } from './event-index.ts';
import type { Db } from './db.ts';
import { eventFromRow, type EventRow } from './events.ts';
import type { Store } from './store.ts';

/** Events as the county reads them: normalized fields, never the raw device excerpt (not selected). */
const EVENT_COLUMNS = 'seq, id, device_id, kind, active, lane, source, device_time, received_at, clock_offset_ms, clock_trusted, initial, grid, attrs';

const inList = (n: number) => `(${Array(n).fill('?').join(',')})`;

export class CursorOutOfRangeError extends Error {}

/**
 * The pull API's reads over the store: alarms and events after a cursor, with
 * filters, bounded by the committed head so a row committed during the read
 * is never skipped; consumers' committed cursors; the county's write-back.
 */
export class CountyFeed {
  constructor(
    private readonly store: Store,
    private readonly reader: Db,
  ) {}

  heads(): Record<CountyStream, number> {
    return { alarms: this.store.writer.last('alarm_history'), events: this.store.writer.last('events') };
  }

  /** Alarms whose latest change is after the cursor, oldest change first; each alarm as it is now. */
  async alarmsSince(cursor: number, limit: number, f: AlarmFilter): Promise<FeedPage<FeedAlarm>> {
    const head = this.heads().alarms;
    const where = ['change_seq > ?', 'change_seq <= ?'];
    const params: unknown[] = [cursor, head];
    if (f.status?.length) {
      where.push(`status IN ${inList(f.status.length)}`);
      params.push(...f.status);
    }
    if (f.category?.length) {
      where.push(`category IN ${inList(f.category.length)}`);
      params.push(...f.category);
    }
    if (f.minLevel !== undefined) {
      where.push('level <= ?');
      params.push(f.minLevel);
    }
    if (f.grid !== undefined) {
      where.push('grid = ?');
      params.push(f.grid);
    }
    params.push(limit);
    const rows = await this.reader.all<AlarmRow>(`SELECT * FROM alarms WHERE ${where.join(' AND ')} ORDER BY change_seq LIMIT ?`, params);
    const items = rows.map(alarmFromRow);
    return { items, nextCursor: rows.length < limit ? Math.max(cursor, head) : items.at(-1)!.changeSeq };
  }

  async alarm(id: string): Promise<{ alarm: FeedAlarm; history: AlarmHistoryEntry[] } | undefined> {
    const alarm = await this.store.alarms.get(id);
    if (!alarm) return undefined;
    return { alarm, history: await this.store.alarms.history(id) };
  }

  async eventsSince(cursor: number, limit: number, f: EventFilter): Promise<FeedPage<StoredEvent>> {
    const head = this.heads().events;
    if (f.kinds.length === 0) return { items: [], nextCursor: Math.max(cursor, head) };
    const where = ['events.seq <= ?', `events.kind IN ${inList(f.kinds.length)}`];
    const params: unknown[] = [head, ...f.kinds];
    if (f.lane !== undefined) {
      where.push('events.lane = ?');
      params.push(laneIndex[f.lane]);
    }
    let rows: EventRow[];
    if (f.grid !== undefined) {
      // One grid: its timeline (an index seek), not every event since the cursor.
      const seqs = timelineSeqs('grid', { keys: [f.grid], after: cursor, where: { sql: where.join(' AND '), params }, order: 'ASC', limit });
      const cols = EVENT_COLUMNS.split(', ')
        .map((c) => `e.${c}`)
        .join(', ');
      rows = await this.reader.all<EventRow>(`SELECT ${cols} FROM (${seqs.sql}) t JOIN events e ON e.seq = t.seq ORDER BY e.seq`, seqs.params);
    } else {
      rows = await this.reader.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE events.seq > ? AND ${where.join(' AND ')} ORDER BY seq LIMIT ?`, [
        cursor,
        ...params,
        limit,
      ]);
    }
    const items = rows.map(eventFromRow);
    return { items, nextCursor: rows.length < limit ? Math.max(cursor, head) : items.at(-1)!.seq };
  }

  async cursors(consumer: string): Promise<ConsumerCursor[]> {
    const rows = await this.reader.all<{ stream: CountyStream; cursor: number; updated_at: number }>(
      'SELECT stream, cursor, updated_at FROM county_cursors WHERE consumer = ? ORDER BY stream',
      [consumer],
    );
    return rows.map((r) => ({ stream: r.stream, cursor: r.cursor, updatedAt: r.updated_at }));
  }

  /** Commit a consumer's cursor. It may move back (to read again), never past what exists. */
  async commitCursor(consumer: string, stream: CountyStream, cursor: number, now: number): Promise<ConsumerCursor> {
    const head = this.heads()[stream];
    if (cursor > head) throw new CursorOutOfRangeError(`cursor ${cursor} is past the newest ${stream} entry (${head}): ack only cursors the API returned`);
    await this.store.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          {
            sql: `INSERT INTO county_cursors (consumer, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
                  ON CONFLICT (consumer, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
            params: [consumer, stream, cursor, now],
          },
        ],
        result: undefined,
      }),
    });
    return { stream, cursor, updatedAt: now };
  }

  /**
   * Apply the county's handling step to the alarm's history (action county_status, actor 'county'); it travels
   * upstream as alarm.updated like every change. With a requestId, a retried request is applied once.
   */
  async writeBack(w: WriteBack, now: number): Promise<WriteBackResult> {
    const earlier = await this.earlier(w);
    if (earlier) return earlier;
    if (!(await this.store.alarms.get(w.alarmId))) return { ok: false, reason: 'not_found', message: `alarm ${w.alarmId} does not exist on this box` };
    const note = `${w.status}${w.operator ? `（${w.operator}）` : ''}${w.note ? `：${w.note}` : ''}`;
    try {
      const alarm = await this.store.alarms.act(
        w.alarmId,
        'county_status',
        'county',
        note,
        (a) => ({ ...a, countyStatus: w.status }),
        (seq) =>
          w.requestId === undefined
            ? []
            : [
                {
                  sql: 'INSERT INTO county_writebacks (consumer, request_id, alarm_id, change_seq, at) VALUES (?, ?, ?, ?, ?)',
                  params: [w.consumer, w.requestId, w.alarmId, seq, now],
                },
              ],
      );
      return { ok: true, alarm, duplicate: false };
    } catch (err) {
      // The same request raced itself: the first one won.
      if (/UNIQUE constraint failed: county_writebacks/.test((err as Error).message)) {
        const again = await this.earlier(w);
        if (again) return again;
      }
      throw err;
    }
  }

  private async earlier(w: WriteBack): Promise<WriteBackResult | null> {
    if (w.requestId === undefined) return null;
    const row = await this.reader.get<{ alarm_id: string }>('SELECT alarm_id FROM county_writebacks WHERE consumer = ? AND request_id = ?', [
      w.consumer,
      w.requestId,
    ]);
    if (!row) return null;
    if (row.alarm_id !== w.alarmId)
      return { ok: false, reason: 'conflict', message: `requestId ${JSON.stringify(w.requestId)} was already used for alarm ${row.alarm_id}` };
    const alarm = await this.store.alarms.get(w.alarmId);
    return alarm ? { ok: true, alarm, duplicate: true } : { ok: false, reason: 'not_found', message: `alarm ${w.alarmId} no longer exists` };
  }
}
