import type { CommitRider, Counter, GroupCommitWriter, Statement } from './writer.ts';

/**
 * The events' device and grid timelines, indexed in bulk.
 *
 * A device's timeline (the panel's device page, "newest event of this
 * device") and a grid's are index seeks. Kept as ordinary indexes on
 * `events`, every commit of 256 appends touched one leaf page per device in
 * it (about a hundred) plus one per grid: SQLite's own ceiling for such
 * commits was 41,000–53,000 rows/s, against 84,000–90,000 with the two
 * timelines indexed in bulk. So they are tables of their own, `(key, seq)` without rowid,
 * filled by one statement each for everything appended since the last time
 * (the watermark, in `meta`), riding in an ordinary group commit every
 * CATCH_UP_ROWS events: the ~100 leaf pages are then written once per 2,048
 * events instead of once per 256. docs/decisions.md §1.
 *
 * Readers see the same thing an index would give: the indexed part
 * (seq ≤ watermark) from the table, the tail (at most about CATCH_UP_ROWS
 * rows, a rowid range) scanned, merged in seq order by one compound SELECT
 * that reads the watermark in the same snapshot. Rows removed from `events`
 * leave the timelines by trigger.
 */
export const TIMELINES = {
  device: { table: 'events_by_device', column: 'device_id', replaces: 'events_device' },
  grid: { table: 'events_by_grid', column: 'grid', replaces: 'events_grid' },
} as const;
export type Timeline = keyof typeof TIMELINES;

export const WATERMARK_KEY = 'indexed.events';
/** Events appended between two catch-ups; the tail a timeline read scans is about this long. */
export const CATCH_UP_ROWS = 2048;

const WATERMARK = `(SELECT value FROM meta WHERE key = '${WATERMARK_KEY}')`;

/** Everything after the watermark into the timelines, and the watermark to the newest event. */
export const CATCH_UP: readonly Statement[] = [
  ...Object.values(TIMELINES).map((t) => ({
    sql: `INSERT INTO ${t.table} (${t.column}, seq) SELECT ${t.column}, seq FROM events WHERE seq > ${WATERMARK} AND ${t.column} IS NOT NULL`,
    params: [],
  })),
  { sql: `UPDATE meta SET value = coalesce((SELECT max(seq) FROM events), value) WHERE key = '${WATERMARK_KEY}'`, params: [] },
];

/** The schema the timelines need; part of a migration (it also indexes the rows already there). */
export const TIMELINES_DDL = `
  ${Object.values(TIMELINES)
    .map(
      (t) => `
  DROP INDEX IF EXISTS ${t.replaces};
  CREATE TABLE ${t.table} (${t.column} TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (${t.column}, seq)) WITHOUT ROWID;`,
    )
    .join('')}
  INSERT INTO meta (key, value) VALUES ('${WATERMARK_KEY}', 0);
  ${CATCH_UP.map((s) => `${s.sql};`).join('\n  ')}
  CREATE TRIGGER events_leave_timelines AFTER DELETE ON events BEGIN
    ${Object.values(TIMELINES)
      .map((t) => `DELETE FROM ${t.table} WHERE ${t.column} = old.${t.column} AND seq = old.seq;`)
      .join('\n    ')}
  END;
`;

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
  // The indexed side looks the event up only when a condition needs its columns; the caller reads the event anyway.
  const join = r.where ? ` JOIN events ON events.seq = ${table}.seq` : '';
  const part = [...r.keys, ...(r.after !== undefined ? [r.after] : []), ...(r.where?.params ?? [])];
  return {
    sql:
      `SELECT ${table}.seq AS seq FROM ${table}${join} WHERE ${keys(`${table}.${column}`)}${more(`${table}.seq`)} ` +
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
export class TimelineIndexer implements CommitRider {
  /** Why the last catch-up failed, until one succeeds. */
  lastError: string | null = null;
  /** The events counter at the last catch-up that committed: what is above it is read from the tail. */
  indexed: number;

  /**
   * @param since the events counter at the last catch-up (or failed try): the next is due CATCH_UP_ROWS later.
   *   The catch-up itself reads the watermark from the database, so this only says when.
   */
  constructor(
    private readonly writer: GroupCommitWriter,
    private since: number,
    private readonly every = CATCH_UP_ROWS,
  ) {
    this.indexed = since;
    writer.ride(this);
  }

  due(counters: Readonly<Record<Counter, number>>): readonly Statement[] | null {
    return counters.events - this.since >= this.every ? CATCH_UP : null;
  }

  committed(counters: Readonly<Record<Counter, number>>): void {
    this.since = this.indexed = counters.events;
    this.lastError = null;
  }

  /** Reads stay right without the catch-up (they scan the tail), only slower as it grows: try again CATCH_UP_ROWS later, not in every commit. */
  failed(err: Error, counters: Readonly<Record<Counter, number>>): void {
    this.lastError = err.message;
    this.since = counters.events;
  }

  /** Index everything committed so far now (a test, a tool), in a commit of its own. */
  async catchUp(): Promise<void> {
    await this.writer.submit({ build: () => ({ statements: [...CATCH_UP], result: undefined }) });
    this.since = this.indexed = this.writer.last('events');
  }
}
