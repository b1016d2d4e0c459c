import type { AppendResult } from '../core/driver.ts';
import { LANES, laneIndex, laneOf, rawExcerpt, type DeviceEvent, type EventKind, type Lane, type StoredEvent } from '../core/events.ts';
import { uuidv7 } from '../core/ids.ts';
import type { NewOutboxEntry } from '../core/outbox.ts';
import type { Db } from './db.ts';
import { outboxInsert } from './outbox.ts';
import type { Budget } from './budget.ts';
import { timelineSeqs, TimelineIndexer, type Timeline, type TimelineRead } from './event-index.ts';
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
  /**
   * The device says this is a resend: looked up by its key first, so that a resend (common after the box
   * restarts) does not fail the commit it shares with other appends and send them all one by one.
   */
  resent?: boolean;
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
  // Field by field, not `{ ...event, seq, … }`: a spread of events of many shapes took V8's slow path, 3–6 µs an
  // event, the largest cost on the main thread at 50,000 appends/s.
  const stored = {
    kind: event.kind,
    deviceId: event.deviceId,
    active: event.active,
    deviceTime: event.deviceTime,
    receivedAt: event.receivedAt,
    clockOffsetMs: event.clockOffsetMs,
    clockTrusted: event.clockTrusted,
    attrs: event.attrs,
    seq,
    id,
    lane,
    grid,
  } as StoredEvent;
  if (event.source !== undefined) stored.source = event.source;
  if (event.initial !== undefined) stored.initial = event.initial;
  // Bounded here, whoever appends: a device cannot bloat the store with its payloads.
  if (event.raw !== undefined) stored.raw = rawExcerpt(event.raw)!;
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
        stored.raw ?? null,
        dedupeKey,
      ],
    },
  };
}

const DEDUPE_CONFLICT = /UNIQUE constraint failed: events\.device_id, events\.dedupe_key/;

function asDuplicate(r: AppendResult): AppendResult {
  return r.stored ? { stored: false, reason: 'duplicate', seq: r.seq, id: r.id } : r;
}

export class EventStore {
  /** Appends with a dedupe key that are not committed yet, so a resend racing its original waits for it. */
  private inFlight = new Map<string, Promise<AppendResult>>();
  /** Keeps the device and grid timelines indexed (event-index.ts). */
  readonly timelines: TimelineIndexer;

  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly budget: Budget,
    private readonly onStored: (events: StoredEvent) => void,
    indexedUpTo: number,
  ) {
    this.timelines = new TimelineIndexer(writer, indexedUpTo);
  }

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
    const run = this.appendOnce(event, opts, opts.dedupeKey);
    this.inFlight.set(key, run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * A fresh event is inserted at once: the unique index (device_id, dedupe_key) refuses a resend, and only then
   * is the original looked up. One the device marks as resent is looked up first.
   */
  private async appendOnce(event: DeviceEvent, opts: AppendOptions, dedupeKey: string): Promise<AppendResult> {
    if (opts.resent) {
      const found = await this.original(event.deviceId, dedupeKey);
      if (found) return { stored: false, reason: 'duplicate', seq: found.seq, id: found.id };
    }
    try {
      return await this.appendNew(event, opts);
    } catch (err) {
      if (!(err instanceof Error) || !DEDUPE_CONFLICT.test(err.message)) throw err;
      const found = await this.original(event.deviceId, dedupeKey);
      if (!found) throw err;
      return { stored: false, reason: 'duplicate', seq: found.seq, id: found.id };
    }
  }

  private original(deviceId: string, dedupeKey: string): Promise<{ seq: number; id: string } | undefined> {
    return this.reader.get<{ seq: number; id: string }>('SELECT seq, id FROM events WHERE device_id = ? AND dedupe_key = ?', [deviceId, dedupeKey]);
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

  /**
   * Events after a cursor, in seq order, with optional filters. A device or
   * grid filter reads that timeline (an index seek), the others filter rows.
   */
  async read(q: EventQuery = {}): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const inList = (col: string, values: readonly unknown[] | undefined) => {
      if (!values || values.length === 0) return;
      where.push(`events.${col} IN (${values.map(() => '?').join(',')})`);
      params.push(...values);
    };
    inList('kind', q.kinds);
    inList(
      'lane',
      q.lanes?.map((l) => laneIndex[l]),
    );
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 10_000);
    const after = q.after ?? 0;
    const timeline: [Timeline, readonly unknown[]] | null = q.deviceIds?.length ? ['device', q.deviceIds] : q.grid !== undefined ? ['grid', [q.grid]] : null;
    if (timeline?.[0] === 'device' && q.grid !== undefined) {
      where.push('events.grid = ?');
      params.push(q.grid);
    }
    let rows: EventRow[];
    if (timeline) {
      const read: TimelineRead = { keys: timeline[1], after, order: 'ASC', limit };
      if (where.length) read.where = { sql: where.join(' AND '), params };
      const seqs = timelineSeqs(timeline[0], read);
      rows = await this.reader.all<EventRow>(`SELECT e.* FROM (${seqs.sql}) t JOIN events e ON e.seq = t.seq ORDER BY e.seq`, seqs.params);
    } else {
      rows = await this.reader.all<EventRow>(`SELECT * FROM events WHERE ${['events.seq > ?', ...where].join(' AND ')} ORDER BY seq LIMIT ?`, [
        after,
        ...params,
        limit,
      ]);
    }
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
