import { LANES, laneIndex, type Lane } from '../core/events.ts';
import { uuidv7 } from '../core/ids.ts';
import { backoffMs, type NewOutboxEntry, type NextOptions, type Outbox, type OutboxEntry, type EnvelopeType } from '../core/outbox.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter, Insert, Statement, TableSpec } from './writer.ts';

export const OUTBOX_TABLE: TableSpec = {
  name: 'outbox',
  columns: ['seq', 'id', 'lane', 'type', 'occurred_at', 'created_at', 'body'],
};

export function outboxInsert(entry: NewOutboxEntry, seq: number, now: number): Insert {
  return {
    table: OUTBOX_TABLE,
    values: [seq, entry.id ?? uuidv7(now), laneIndex[entry.lane], entry.type, entry.occurredAt, now, JSON.stringify(entry.body)],
  };
}

interface OutboxRow {
  seq: number;
  id: string;
  lane: number;
  type: EnvelopeType;
  occurred_at: number;
  body: string;
  attempts: number;
  next_try_at: number;
  last_error: string | null;
}

export type DeadLetter = Omit<OutboxEntry, 'nextTryAt' | 'lastError'> & { reason: string; deadAt: number };

export interface LaneDepth {
  lane: Lane;
  depth: number;
  oldestCreatedAt: number | null;
}

export interface OutboxOptions {
  /** Entry-level failures before an entry is dead-lettered. */
  maxAttempts: number;
  /** Share of each batch kept for each lower lane that has entries, so none starves. */
  fairShare: number;
}

const inClause = (n: number) => `(${Array(n).fill('?').join(',')})`;
const MAX_IDS = 10_000;

/**
 * The outbox drained by the cloud bridge. Lanes leave in priority order
 * (alarm, record, status) with a small fair share for the lower ones; within
 * a lane, strictly in seq order — an entry waiting out its backoff holds the
 * entries behind it, until it succeeds or is dead-lettered.
 */
export class OutboxStore implements Outbox {
  /** id → seq of the last batch next() returned, so its ack deletes by primary key. */
  private handedOut = new Map<string, number>();

  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
    private readonly opts: OutboxOptions,
  ) {}

  /** Enqueue entries outside an event append (alarm changes, heartbeats). */
  async enqueue(entries: readonly NewOutboxEntry[]): Promise<{ seq: number; id: string }[]> {
    const now = this.clock.now();
    return this.writer.submit({
      sync: entries.some((e) => e.lane === 'alarm') ? 'full' : 'normal',
      build: (next) => {
        const inserts = entries.map((e) => outboxInsert(e, next('outbox'), now));
        return { inserts, result: inserts.map((i) => ({ seq: i.values[0] as number, id: i.values[1] as string })) };
      },
    });
  }

  async next(limit: number, opts: NextOptions = {}): Promise<OutboxEntry[]> {
    const now = this.clock.now();
    const share = opts.fairShare ?? this.opts.fairShare;
    const reserve = share > 0 ? Math.max(1, Math.floor(limit * share)) : 0;
    const picked: OutboxEntry[][] = [];
    let room = limit;
    for (let l = 0; l < LANES.length; l++) {
      // Lower lanes each keep `reserve` slots if they have entries; lane l may take the rest.
      const want = l === 0 ? limit : Math.max(reserve, room);
      if (want === 0) {
        picked.push([]);
        continue;
      }
      const rows = await this.reader.all<OutboxRow>(
        'SELECT seq, id, lane, type, occurred_at, body, attempts, next_try_at, last_error FROM outbox WHERE lane = ? ORDER BY seq LIMIT ?',
        [l, want],
      );
      const due: OutboxEntry[] = [];
      for (const r of rows) {
        if (r.next_try_at > now) break; // keep order: the head is backing off
        due.push(toEntry(r));
      }
      picked.push(due);
      room = Math.max(0, room - due.length);
    }
    // Cut the higher lanes back so each non-empty lower lane keeps its reserve.
    const out: OutboxEntry[] = [];
    let left = limit;
    this.handedOut.clear(); // a single consumer: what the previous batch left unacked is asked for again
    for (let l = 0; l < picked.length; l++) {
      const reservedBelow = picked.slice(l + 1).reduce((n, p) => n + Math.min(p.length, reserve), 0);
      const take = Math.max(0, Math.min(picked[l]!.length, left - reservedBelow));
      for (const e of picked[l]!.slice(0, take)) {
        out.push(e);
        this.handedOut.set(e.id, e.seq);
      }
      left -= take;
    }
    return out;
  }

  async ack(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    // Ids handed out by next() are deleted by their primary key; any other id by the id index.
    const seqs: number[] = [];
    const others: string[] = [];
    for (const id of ids) {
      const seq = this.handedOut.get(id);
      if (seq === undefined) others.push(id);
      else {
        seqs.push(seq);
        this.handedOut.delete(id);
      }
    }
    let changes = 0;
    await this.writer.submit({
      urgent: true,
      build: () => {
        changes = 0; // built again if the batch is retried
        const count = (n: number) => (changes += n);
        return {
          statements: [
            ...chunks(seqs).map((c) => ({ sql: `DELETE FROM outbox WHERE seq IN ${inClause(c.length)}`, params: c, changes: count })),
            ...chunks(others).map((c) => ({ sql: `DELETE FROM outbox WHERE id IN ${inClause(c.length)}`, params: c, changes: count })),
          ],
          result: undefined,
        };
      },
    });
    return changes;
  }

  async fail(ids: readonly string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    const now = this.clock.now();
    const rows: { id: string; attempts: number }[] = [];
    for (const c of chunks(ids))
      rows.push(...(await this.reader.all<{ id: string; attempts: number }>(`SELECT id, attempts FROM outbox WHERE id IN ${inClause(c.length)}`, c)));
    const dead = rows.filter((r) => r.attempts + 1 >= this.opts.maxAttempts).map((r) => r.id);
    const retry = rows.filter((r) => r.attempts + 1 < this.opts.maxAttempts);
    await this.writer.submit({
      urgent: true,
      build: () => ({
        statements: [
          ...retry.map((r) => ({
            sql: 'UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?',
            params: [now + backoffMs(r.attempts + 1), reason, r.id],
          })),
          ...moveToDeadLetter(dead, `after ${this.opts.maxAttempts} attempts: ${reason}`, now, 1),
        ],
        result: undefined,
      }),
    });
  }

  async deadLetter(ids: readonly string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    const now = this.clock.now();
    await this.writer.submit({ urgent: true, build: () => ({ statements: moveToDeadLetter(ids, reason, now, 0), result: undefined }) });
  }

  /**
   * Depth and age of each lane, from the lane index alone: a count over the index and the head of each lane
   * (entries leave a lane in seq order, so its head is its oldest). A scan of the table for MIN(created_at)
   * took ~0.4 s at 1,000,000 entries, on every heartbeat, scrape and panel refresh; this takes ~35 ms.
   */
  async depth(): Promise<LaneDepth[]> {
    const counts = await this.reader.all<{ lane: number; depth: number }>('SELECT lane, COUNT(*) AS depth FROM outbox GROUP BY lane');
    return Promise.all(
      LANES.map(async (lane, i) => {
        const depth = counts.find((x) => x.lane === i)?.depth ?? 0;
        if (depth === 0) return { lane, depth, oldestCreatedAt: null };
        const head = await this.reader.get<{ created_at: number }>('SELECT created_at FROM outbox WHERE lane = ? ORDER BY seq LIMIT 1', [i]);
        return { lane, depth, oldestCreatedAt: head?.created_at ?? null };
      }),
    );
  }

  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    const rows = await this.reader.all<OutboxRow & { reason: string; dead_at: number }>('SELECT * FROM dead_letter ORDER BY seq DESC LIMIT ?', [limit]);
    return rows.map((r) => {
      const { nextTryAt: _n, lastError: _l, ...entry } = toEntry(r);
      return { ...entry, reason: r.reason, deadAt: r.dead_at };
    });
  }

  lastSeq(): number {
    return this.writer.last('outbox');
  }
}

function toEntry(r: OutboxRow): OutboxEntry {
  return {
    seq: r.seq,
    id: r.id,
    lane: LANES[r.lane]!,
    type: r.type,
    occurredAt: r.occurred_at,
    body: JSON.parse(r.body),
    attempts: r.attempts,
    nextTryAt: r.next_try_at,
    lastError: r.last_error,
  };
}

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += MAX_IDS) out.push(xs.slice(i, i + MAX_IDS));
  return out;
}

function moveToDeadLetter(ids: readonly string[], reason: string, now: number, extraAttempts: number): Statement[] {
  return chunks(ids).flatMap((c) => [
    {
      sql: `INSERT OR IGNORE INTO dead_letter (seq, id, lane, type, occurred_at, body, attempts, reason, dead_at)
            SELECT seq, id, lane, type, occurred_at, body, attempts + ${extraAttempts}, ?, ? FROM outbox WHERE id IN ${inClause(c.length)}`,
      params: [reason, now, ...c],
    },
    { sql: `DELETE FROM outbox WHERE id IN ${inClause(c.length)}`, params: c },
  ]);
}
