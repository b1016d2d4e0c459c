import type { CommitRider, Counter, GroupCommitWriter, Statement } from './writer.ts';

/**
 * The events' secondary indexes that are kept in bulk: the device and grid
 * timelines and the devices' own event ids (dedupe keys).
 *
 * A device's timeline (the panel's device page, "newest event of this
 * device") and a grid's are index seeks, and a device's resent event must be
 * found by its id. Kept as ordinary indexes on `events`, every commit of 256
 * appends touched one leaf page per device in it, in each of these indexes:
 * SQLite's own ceiling for such commits was 41,000–53,000 rows/s, against
 * 76,000–90,000 without the timelines, and the dedupe index alone took
 * another third off MQTT appends. So they are tables of their own without
 * rowid, filled by one statement each for everything appended since the last
 * time (the watermark, in `meta`), riding in an ordinary group commit every
 * CATCH_UP_ROWS events: the ~100 leaf pages per index are then written once
 * per 2,048 events instead of once per 256. docs/decisions.md §1.
 *
 * Readers see the same thing an index would give: the indexed part
 * (seq ≤ watermark) from the table, the tail (at most about CATCH_UP_ROWS
 * rows, a rowid range) scanned, in one statement that reads the watermark
 * in the same snapshot. Rows removed from `events` leave them by trigger.
 */
export const TIMELINES = {
  device: { table: 'events_by_device', column: 'device_id' },
  grid: { table: 'events_by_grid', column: 'grid' },
} as const;
export type Timeline = keyof typeof TIMELINES;

/** A device's event ids: (device_id, dedupe_key) → seq. Unique by construction (EventStore screens resends). */
const DEDUPE = 'events_by_dedupe';

export const WATERMARK_KEY = 'indexed.events';
/** Events appended between two catch-ups; the tail a read scans is about this long. */
export const CATCH_UP_ROWS = 2048;

const WATERMARK = `(SELECT value FROM meta WHERE key = '${WATERMARK_KEY}')`;

/** Everything after the watermark into the tables, and the watermark to the newest event. */
export const CATCH_UP: readonly Statement[] = [
  ...Object.values(TIMELINES).map((t) => ({
    sql: `INSERT INTO ${t.table} (${t.column}, seq) SELECT ${t.column}, seq FROM events WHERE seq > ${WATERMARK} AND ${t.column} IS NOT NULL`,
    params: [],
  })),
  // OR IGNORE: were a resend ever stored twice, the catch-up must not fail over it (and stall the watermark).
  {
    sql: `INSERT OR IGNORE INTO ${DEDUPE} (device_id, dedupe_key, seq) SELECT device_id, dedupe_key, seq FROM events WHERE seq > ${WATERMARK} AND dedupe_key IS NOT NULL`,
    params: [],
  },
  { sql: `UPDATE meta SET value = coalesce((SELECT max(seq) FROM events), value) WHERE key = '${WATERMARK_KEY}'`, params: [] },
];

/** The schema; part of a migration (it also indexes the rows already there). */
export const EVENT_INDEX_DDL = `
  DROP INDEX IF EXISTS events_device;
  DROP INDEX IF EXISTS events_grid;
  DROP INDEX IF EXISTS events_dedupe;
  ${Object.values(TIMELINES)
    .map((t) => `CREATE TABLE ${t.table} (${t.column} TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (${t.column}, seq)) WITHOUT ROWID;`)
    .join('\n  ')}
  CREATE TABLE ${DEDUPE} (device_id TEXT NOT NULL, dedupe_key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (device_id, dedupe_key)) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('${WATERMARK_KEY}', 0);
  ${CATCH_UP.map((s) => `${s.sql};`).join('\n  ')}
  CREATE TRIGGER events_leave_indexes AFTER DELETE ON events BEGIN
    ${Object.values(TIMELINES)
      .map((t) => `DELETE FROM ${t.table} WHERE ${t.column} = old.${t.column} AND seq = old.seq;`)
      .join('\n    ')}
    DELETE FROM ${DEDUPE} WHERE device_id = old.device_id AND dedupe_key = old.dedupe_key AND seq = old.seq;
  END;
`;

/**
 * The stored events among (device id, dedupe key) pairs, given as one JSON
 * array of pairs: indexed ones by key, the tail by one pass over its rows.
 */
export const DEDUPE_LOOKUP = `
  WITH k(device_id, dedupe_key) AS (SELECT value->>0, value->>1 FROM json_each(?))
  SELECT d.device_id, d.dedupe_key, d.seq, e.id FROM k JOIN ${DEDUPE} d ON d.device_id = k.device_id AND d.dedupe_key = k.dedupe_key
    JOIN events e ON e.seq = d.seq
  UNION ALL
  SELECT e.device_id, e.dedupe_key, e.seq, e.id FROM events e
    WHERE e.seq > ${WATERMARK} AND e.dedupe_key IS NOT NULL AND (e.device_id, e.dedupe_key) IN (SELECT device_id, dedupe_key FROM k)`;

export interface TimelineRead {
  /** The timeline's keys (device ids, grid codes): events with any of them. */
  keys: readonly unknown[];
  /** Only seq strictly above this (a cursor). */
  after?: number;
  /** More conditions on the event, its columns written `events.<column>`. */
  where?: { sql: string; params: readonly unknown[] };
  /** Newest first (a device page) or oldest first (a cursor read). */
  order: 'ASC' | 'DESC';
  limit: number;
}

/**
 * The `seq`s of the events on a timeline, in order, limited: a compound
 * SELECT of the indexed part and the tail. Every condition is applied inside
 * both parts, before the limit, so a page is short only when nothing more
 * matches. Use it as a subquery: `SELECT … FROM (<sql>) t JOIN events e USING (seq)`.
 */
export function timelineSeqs(timeline: Timeline, r: TimelineRead): { sql: string; params: unknown[] } {
  const { table, column } = TIMELINES[timeline];
  const keys = (col: string) => (r.keys.length === 1 ? `${col} = ?` : `${col} IN (${r.keys.map(() => '?').join(',')})`);
  // Each side selects and bounds the seq of the table it walks, so both come out in order and the merge stops at the limit.
  const more = (seq: string) => `${r.after !== undefined ? ` AND ${seq} > ?` : ''}${r.where ? ` AND (${r.where.sql})` : ''}`;
  const part = [...r.keys, ...(r.after !== undefined ? [r.after] : []), ...(r.where?.params ?? [])];
  return {
    sql:
      `SELECT ${table}.seq AS seq FROM ${table} JOIN events ON events.seq = ${table}.seq WHERE ${keys(`${table}.${column}`)}${more(`${table}.seq`)} ` +
      `UNION ALL SELECT seq FROM events WHERE events.seq > ${WATERMARK} AND ${keys(`events.${column}`)}${more('events.seq')} ` +
      `ORDER BY 1 ${r.order} LIMIT ?`,
    params: [...part, ...part, r.limit],
  };
}

/**
 * Rides along in the first commit after CATCH_UP_ROWS events have been
 * appended past the watermark, so the catch-up is as durable as the appends
 * and costs no commit of its own.
 */
export class EventIndexer implements CommitRider {
  constructor(
    private readonly writer: GroupCommitWriter,
    private watermark: number,
    private readonly every = CATCH_UP_ROWS,
  ) {
    writer.ride(this);
  }

  due(counters: Readonly<Record<Counter, number>>): readonly Statement[] | null {
    return counters.events - this.watermark >= this.every ? CATCH_UP : null;
  }

  committed(counters: Readonly<Record<Counter, number>>): void {
    this.watermark = counters.events;
  }

  /** Index everything committed so far now (a test, a tool), in a commit of its own. */
  async catchUp(): Promise<void> {
    await this.writer.submit({ build: () => ({ statements: [...CATCH_UP], result: undefined }) });
    this.watermark = this.writer.last('events');
  }
}
