import type { AppendResult } from '../core/driver.ts';
import { LANES, laneIndex, laneOf, type DeviceEvent, type EventKind, type Lane, type StoredEvent } from '../core/events.ts';
import { uuidv7 } from '../core/ids.ts';
import type { NewOutboxEntry } from '../core/outbox.ts';
import type { Db } from './db.ts';
import { outboxInsert } from './outbox.ts';
import type { Budget } from './budget.ts';
import type { Insert, TableSpec, GroupCommitWriter } from './writer.ts';

export const EVENTS_TABLE: TableSpec = {
  name: 'events',
  columns: [
    'seq',
    'id',
    'device_id',
    'kind',
    'active',
    'lane',
    'source',
    'device_time',
    'received_at',
    'clock_offset_ms',
    'clock_trusted',
    'initial',
    'grid',
    'attrs',
    'raw',
    'dedupe_key',
  ],
};

export interface AppendOptions {
  /** The device's own event id: a resent event with the same (device, key) is not stored twice. */
  dedupeKey?: string;
  /** Grid code from the device registry (ingest enriches with it). */
  grid?: string | null;
  /** Forward upstream: build the outbox entry from the stored event; committed in the same transaction. */
  forward?: (stored: StoredEvent) => NewOutboxEntry;
}

export interface EventQuery {
  /** Return events with seq strictly greater than this cursor. */
  after?: number;
  limit?: number;
  kinds?: readonly EventKind[];
  deviceIds?: readonly string[];
  grid?: string;
  lanes?: readonly Lane[];
}

export interface EventRow {
  seq: number;
  id: string;
  device_id: string;
  kind: EventKind;
  active: number;
  lane: number;
  source: string | null;
  device_time: number | null;
  received_at: number;
  clock_offset_ms: number | null;
  clock_trusted: number;
  initial: number;
  grid: string | null;
  attrs: string;
  /** Absent when a reader leaves the raw excerpt out (the county's feed). */
  raw?: string | null;
}

export function eventFromRow(r: EventRow): StoredEvent {
  return {
    seq: r.seq,
    id: r.id,
    deviceId: r.device_id,
    kind: r.kind,
    active: r.active === 1,
    lane: LANES[r.lane]!,
    ...(r.source !== null ? { source: r.source } : {}),
    deviceTime: r.device_time,
    receivedAt: r.received_at,
    clockOffsetMs: r.clock_offset_ms,
    clockTrusted: r.clock_trusted === 1,
    ...(r.initial === 1 ? { initial: true } : {}),
    grid: r.grid,
    attrs: JSON.parse(r.attrs),
    ...(r.raw != null ? { raw: r.raw } : {}),
  } as StoredEvent;
}

/** Build the insert for one event; the writer assigns seq at commit time. */
export function eventInsert(
  event: DeviceEvent,
  seq: number,
  id: string,
  grid: string | null,
  dedupeKey: string | null = null,
): { insert: Insert; stored: StoredEvent } {
  const lane = laneOf(event.kind);
  const stored = { ...event, seq, id, lane, grid } as StoredEvent;
  return {
    stored,
    insert: {
      table: EVENTS_TABLE,
      values: [
        seq,
        id,
        event.deviceId,
        event.kind,
        event.active ? 1 : 0,
        laneIndex[lane],
        event.source ?? null,
        event.deviceTime,
        event.receivedAt,
        event.clockOffsetMs,
        event.clockTrusted ? 1 : 0,
        event.initial ? 1 : 0,
        grid,
        JSON.stringify(event.attrs),
        event.raw ?? null,
        dedupeKey,
      ],
    },
  };
}

function asDuplicate(r: AppendResult): AppendResult {
  return r.stored ? { stored: false, reason: 'duplicate', seq: r.seq, id: r.id } : r;
}

export class EventStore {
  /** Appends with a dedupe key that are not committed yet, so a resend racing its original waits for it. */
  private inFlight = new Map<string, Promise<AppendResult>>();

  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly budget: Budget,
    private readonly onStored: (events: StoredEvent) => void,
  ) {}

  /**
   * Append one event durably: resolves after the commit that holds it. In the
   * alarm lane the commit is fsynced (synchronous=FULL). When the disk budget
   * sheds the event's lane, nothing is written, the shed is counted, and the
   * result says so.
   */
  async append(event: DeviceEvent, opts: AppendOptions = {}): Promise<AppendResult> {
    if (opts.dedupeKey === undefined) return this.appendNew(event, opts);
    const key = `${event.deviceId}\u0000${opts.dedupeKey}`;
    const pending = this.inFlight.get(key);
    if (pending) return asDuplicate(await pending);
    // Fast path: insert; the unique index (device_id, dedupe_key) refuses a resend, and only then is it looked up.
    const run = this.appendNew(event, opts).catch(async (err: Error) => {
      if (!/UNIQUE constraint failed: events\.device_id, events\.dedupe_key/.test(err.message)) throw err;
      const found = await this.reader.get<{ seq: number; id: string }>('SELECT seq, id FROM events WHERE device_id = ? AND dedupe_key = ?', [
        event.deviceId,
        opts.dedupeKey,
      ]);
      if (!found) throw err;
      return { stored: false, reason: 'duplicate', seq: found.seq, id: found.id } as AppendResult;
    });
    this.inFlight.set(key, run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async appendNew(event: DeviceEvent, opts: AppendOptions): Promise<AppendResult> {
    const lane = laneOf(event.kind);
    if (this.budget.sheds(lane)) {
      this.budget.countShed(lane);
      return { stored: false, reason: 'shed' };
    }
    const id = uuidv7(event.receivedAt);
    const stored = await this.writer.submit({
      sync: lane === 'alarm' ? 'full' : 'normal',
      build: (next) => {
        const e = eventInsert(event, next('events'), id, opts.grid ?? null, opts.dedupeKey ?? null);
        const inserts = [e.insert];
        if (opts.forward) inserts.push(outboxInsert(opts.forward(e.stored), next('outbox'), event.receivedAt));
        return { inserts, result: e.stored };
      },
    });
    this.onStored(stored);
    return { stored: true, seq: stored.seq, id: stored.id };
  }

  /** Events after a cursor, in seq order, with optional filters. */
  async read(q: EventQuery = {}): Promise<StoredEvent[]> {
    const where = ['seq > ?'];
    const params: unknown[] = [q.after ?? 0];
    const inList = (col: string, values: readonly unknown[] | undefined) => {
      if (!values || values.length === 0) return;
      where.push(`${col} IN (${values.map(() => '?').join(',')})`);
      params.push(...values);
    };
    inList('kind', q.kinds);
    inList('device_id', q.deviceIds);
    inList(
      'lane',
      q.lanes?.map((l) => laneIndex[l]),
    );
    if (q.grid !== undefined) {
      where.push('grid = ?');
      params.push(q.grid);
    }
    params.push(Math.min(Math.max(q.limit ?? 100, 1), 10_000));
    const rows = await this.reader.all<EventRow>(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`, params);
    return rows.map(eventFromRow);
  }

  async byId(id: string): Promise<StoredEvent | undefined> {
    const row = await this.reader.get<EventRow>('SELECT * FROM events WHERE id = ?', [id]);
    return row ? eventFromRow(row) : undefined;
  }

  /** The highest committed event sequence. */
  lastSeq(): number {
    return this.writer.last('events');
  }
}
