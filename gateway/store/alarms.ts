import { applyAlarmAction, type Alarm, type AlarmAction, type AlarmHistoryEntry, type AlarmPlace, type AlarmStatus } from '../core/alarm.ts';
import type { Clock } from '../core/clock.ts';
import { uuidv7 } from '../core/ids.ts';
import type { Db } from './db.ts';
import { outboxInsert } from './outbox.ts';
import type { GroupCommitWriter, Insert, Statement } from './writer.ts';

export interface AlarmRow {
  id: string;
  change_seq: number;
  rule: string;
  level: 1 | 2 | 3;
  category: Alarm['category'];
  title: string;
  status: AlarmStatus;
  device_id: string | null;
  grid: string | null;
  opened_at: number;
  updated_at: number;
  accept_by: number | null;
  close_by: number | null;
  escalated: number;
  overdue: number;
  count: number;
  evidence: string;
  snapshots: string;
  county_status: string | null;
  place: string | null;
  dedupe_keys: string | null;
}

/** `dedupeKeys`: the detection engine's keys for the condition the alarm stands for (kept so a restart finds it again). */
export type StoredAlarm = Alarm & { changeSeq: number; dedupeKeys: string[] };

export function fromRow(r: AlarmRow): StoredAlarm {
  return {
    id: r.id,
    changeSeq: r.change_seq,
    rule: r.rule,
    level: r.level,
    category: r.category,
    title: r.title,
    status: r.status,
    deviceId: r.device_id,
    grid: r.grid,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    acceptBy: r.accept_by,
    closeBy: r.close_by,
    escalated: r.escalated === 1,
    overdue: r.overdue === 1,
    count: r.count,
    evidence: JSON.parse(r.evidence),
    snapshots: JSON.parse(r.snapshots),
    countyStatus: r.county_status,
    place: r.place === null ? null : (JSON.parse(r.place) as AlarmPlace),
    dedupeKeys: r.dedupe_keys === null ? [] : (JSON.parse(r.dedupe_keys) as string[]),
  };
}

export type NewAlarm = Omit<Alarm, 'id' | 'status' | 'updatedAt' | 'escalated' | 'overdue' | 'count' | 'countyStatus'> & {
  id?: string;
  dedupeKeys?: string[];
  /** Occurrences behind it already (a flap filter opens after N); default 1. */
  count?: number;
};

/** Evidence kept on one alarm: the first events (what opened it) and the latest. */
const EVIDENCE_FIRST = 20;
const EVIDENCE_MAX = 200;

const UPSERT_COLUMNS = [
  'id',
  'change_seq',
  'rule',
  'level',
  'category',
  'title',
  'status',
  'device_id',
  'grid',
  'opened_at',
  'updated_at',
  'accept_by',
  'close_by',
  'escalated',
  'overdue',
  'count',
  'evidence',
  'snapshots',
  'county_status',
  'place',
  'dedupe_keys',
] as const;
const UPSERT_SQL = `INSERT OR REPLACE INTO alarms (${UPSERT_COLUMNS.join(',')}) VALUES (${UPSERT_COLUMNS.map(() => '?').join(',')})`;

/**
 * Every alarm change travels upstream in the same transaction that records it:
 * `alarm.opened` for the first, `alarm.updated` for every later one (local or
 * remote), in the alarm lane, carrying the alarm as it now is and the step.
 */
function upstream(a: Alarm & { dedupeKeys?: string[] }, changeSeq: number, entry: AlarmHistoryEntry, outboxSeq: number, now: number): Insert {
  const { dedupeKeys: _, ...alarm } = a;
  return outboxInsert(
    {
      lane: 'alarm',
      type: entry.action === 'open' ? 'alarm.opened' : 'alarm.updated',
      occurredAt: entry.at,
      body: { alarm: { ...alarm, changeSeq }, change: entry },
    },
    outboxSeq,
    now,
  );
}

function write(a: Alarm & { dedupeKeys?: string[] }, changeSeq: number, entry: AlarmHistoryEntry): Statement[] {
  return [
    {
      sql: UPSERT_SQL,
      params: [
        a.id,
        changeSeq,
        a.rule,
        a.level,
        a.category,
        a.title,
        a.status,
        a.deviceId,
        a.grid,
        a.openedAt,
        a.updatedAt,
        a.acceptBy,
        a.closeBy,
        a.escalated ? 1 : 0,
        a.overdue ? 1 : 0,
        a.count,
        JSON.stringify(a.evidence),
        JSON.stringify(a.snapshots),
        a.countyStatus,
        a.place ? JSON.stringify(a.place) : null,
        a.dedupeKeys?.length ? JSON.stringify(a.dedupeKeys) : null,
      ],
    },
    {
      sql: 'INSERT INTO alarm_history (seq, alarm_id, at, action, actor, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      params: [changeSeq, a.id, entry.at, entry.action, entry.actor, entry.from, entry.to, entry.note ?? null],
    },
  ];
}

/**
 * Alarms and their workflow history. Every change is one history row whose
 * seq becomes the alarm's change_seq, so "alarms changed since cursor" is a
 * range read. Changes to one alarm are serialized: two guards pressing 受理
 * at once give one acceptance and one clear refusal.
 */
export class AlarmStore {
  private locks = new Map<string, Promise<unknown>>();
  private listeners = new Set<(a: StoredAlarm) => void>();

  /** Told of every committed alarm change (opened or acted on); returns the unsubscribe function. */
  onChange(fn: (a: StoredAlarm) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  private changed(a: StoredAlarm): StoredAlarm {
    for (const fn of this.listeners) {
      try {
        fn(a);
      } catch {
        // a listener's failure is its own; the change is committed
      }
    }
    return a;
  }

  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  async open(a: NewAlarm, actor: string): Promise<StoredAlarm> {
    const now = this.clock.now();
    const alarm: Alarm & { dedupeKeys: string[] } = {
      ...a,
      id: a.id ?? uuidv7(now),
      status: 'new',
      updatedAt: now,
      escalated: false,
      overdue: false,
      count: a.count ?? 1,
      countyStatus: null,
      place: a.place ?? null,
      dedupeKeys: a.dedupeKeys ?? [],
    };
    const entry: AlarmHistoryEntry = { at: now, action: 'open', actor, from: null, to: 'new' };
    const stored = await this.writer.submit({
      sync: 'full',
      build: (next) => {
        const seq = next('alarm_history');
        return {
          statements: write(alarm, seq, entry),
          inserts: [upstream(alarm, seq, entry, next('outbox'), now)],
          result: { ...alarm, changeSeq: seq },
        };
      },
    });
    return this.changed(stored);
  }

  /**
   * Apply a workflow action (受理, 处置, 办结, 误报, 上报, ...) as `actor`; throws AlarmTransitionError when not allowed.
   * `extra` adds statements to the same transaction (e.g. an idempotency record of the request that caused it).
   */
  act(
    id: string,
    action: Exclude<AlarmAction, 'open'>,
    actor: string,
    note?: string,
    change?: (a: Alarm & { dedupeKeys: string[] }) => Alarm & { dedupeKeys: string[] },
    extra?: (changeSeq: number) => Statement[],
  ): Promise<StoredAlarm> {
    return this.serialized(id, async () => {
      const current = await this.get(id);
      if (!current) throw new Error(`alarm ${id} does not exist`);
      const { changeSeq: _, ...plain } = current;
      const now = this.clock.now();
      const applied = applyAlarmAction(plain, action, actor, now, note);
      const alarm = change ? change({ ...applied.alarm, dedupeKeys: plain.dedupeKeys }) : { ...applied.alarm, dedupeKeys: plain.dedupeKeys };
      const stored = await this.writer.submit({
        sync: 'full',
        build: (next) => {
          const seq = next('alarm_history');
          return {
            statements: [...write(alarm, seq, applied.entry), ...(extra?.(seq) ?? [])],
            inserts: [upstream(alarm, seq, applied.entry, next('outbox'), now)],
            result: { ...alarm, changeSeq: seq },
          };
        },
      });
      return this.changed(stored);
    });
  }

  /**
   * The condition repeated while the alarm is open: add evidence instead of opening another. `times`: how many
   * repeats this stands for (a flapping camera's burst is one write). Kept: the first events and the latest.
   */
  addEvidence(id: string, eventIds: readonly string[], actor: string, times = 1, note?: string): Promise<StoredAlarm> {
    return this.act(id, 'evidence', actor, note, (a) => {
      const all = [...a.evidence, ...eventIds.filter((e) => !a.evidence.includes(e))];
      const evidence = all.length <= EVIDENCE_MAX ? all : [...all.slice(0, EVIDENCE_FIRST), ...all.slice(all.length - (EVIDENCE_MAX - EVIDENCE_FIRST))];
      return { ...a, count: a.count + times, evidence };
    });
  }

  /** Alarms opened at or after a time, in any status (the detection engine's catch-up after a restart). */
  async openedSince(at: number): Promise<StoredAlarm[]> {
    const rows = await this.reader.all<AlarmRow>('SELECT * FROM alarms WHERE opened_at >= ? ORDER BY opened_at', [at]);
    return rows.map(fromRow);
  }

  async get(id: string): Promise<StoredAlarm | undefined> {
    const row = await this.reader.get<AlarmRow>('SELECT * FROM alarms WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  /** Alarms changed after a cursor (change_seq), oldest change first. */
  async changedSince(after: number, limit = 100): Promise<StoredAlarm[]> {
    const rows = await this.reader.all<AlarmRow>('SELECT * FROM alarms WHERE change_seq > ? ORDER BY change_seq LIMIT ?', [after, limit]);
    return rows.map(fromRow);
  }

  async listOpen(): Promise<StoredAlarm[]> {
    const rows = await this.reader.all<AlarmRow>(`SELECT * FROM alarms WHERE status NOT IN ('resolved','false_alarm') ORDER BY level, opened_at`);
    return rows.map(fromRow);
  }

  async history(id: string): Promise<AlarmHistoryEntry[]> {
    const rows = await this.reader.all<{
      at: number;
      action: AlarmAction;
      actor: string;
      from_status: AlarmStatus | null;
      to_status: AlarmStatus;
      note: string | null;
    }>('SELECT at, action, actor, from_status, to_status, note FROM alarm_history WHERE alarm_id = ? ORDER BY seq', [id]);
    return rows.map((r) => ({
      at: r.at,
      action: r.action,
      actor: r.actor,
      from: r.from_status,
      to: r.to_status,
      ...(r.note !== null ? { note: r.note } : {}),
    }));
  }

  private serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.catch(() => {}).then(fn);
    this.locks.set(id, run);
    run
      .finally(() => {
        if (this.locks.get(id) === run) this.locks.delete(id);
      })
      .catch(() => {});
    return run;
  }
}
