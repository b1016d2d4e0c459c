import type { Logger } from 'pino';
import { AlarmTransitionError, CLOSED_STATUSES, type AlarmCategory, type AlarmLevel, type AlarmPlace } from '../core/alarm.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { uuidv7 } from '../core/ids.ts';
import type { StoredAlarm } from '../store/alarms.ts';
import { deadlinesFor, type AlarmPort, type DeadlineTable } from './ports.ts';

/** What opening an alarm needs (the engine builds it from a rule and its events). */
export interface OpenRequest {
  rule: string;
  level: AlarmLevel;
  category: AlarmCategory;
  title: string;
  deviceId: string | null;
  grid: string | null;
  place: AlarmPlace | null;
  keys: string[];
  eventIds: string[];
  /** Receive time of the newest event behind it (linkage skips events too old to act on). */
  eventAt: number;
  cooldownMs: number;
  /** Occurrences behind it (a flap filter's N); default 1. */
  count?: number;
}

export interface RaiseRequest {
  rule: string;
  level: AlarmLevel;
  category: AlarmCategory;
  title: string;
  note: string;
  eventIds: string[];
  keys: string[];
  eventAt: number;
}

/** An alarm the engine holds open in memory: its keys, and repeats not yet written. */
export interface Tracked {
  id: string;
  rule: string;
  level: AlarmLevel;
  keys: string[];
  openedAt: number;
  template: OpenRequest;
  pendingIds: string[];
  pendingTimes: number;
  flushTimer: TimerHandle | null;
  /** A restore waiting for quiet before it is written (a flapping condition restores many times). */
  restoreTimer: TimerHandle | null;
  /** The restore to write when the quiet is over; null when the condition came back meanwhile. */
  restore: { at: number; text: string; resolve: boolean; actor: string } | null;
  gone: boolean;
}

export interface BookHooks {
  /** The alarm is written (linkage, deadlines). */
  opened(alarm: StoredAlarm, req: OpenRequest): void;
  raised(alarm: StoredAlarm, req: RaiseRequest): void;
  /** Repeats arrived for an alarm a person has closed meanwhile: they may open a new one. */
  closedWithPending(t: Tracked, eventIds: string[]): void;
}

const PENDING_IDS_MAX = 20;
const EVENT_LINK_MS = 10 * 60_000;

/**
 * The engine's book of open alarms: which condition (dedupe key) maps to which
 * alarm, repeats coalesced into one evidence write per alarm every few
 * seconds (a flapping camera is one alarm with a count, not a write per
 * blip), and every store write queued per alarm so an alarm's open always
 * lands before its evidence. The engine decides synchronously (ids are made
 * here, before the write); the writes follow.
 */
export class AlarmBook {
  private readonly byKey = new Map<string, Tracked>();
  private readonly byId = new Map<string, Tracked>();
  /** key → when its last alarm was closed (cooldown). */
  private readonly closedAt = new Map<string, number>();
  /** event id → the alarm it is evidence of, for recent events (correlations absorb those alarms). */
  private readonly eventAlarm = new Map<string, { id: string; at: number }>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Catch-up after a restart: alarms opened since the replay window began, by key. */
  private handled = new Map<string, { openedAt: number; open: boolean }[]>();

  constructor(
    private readonly o: {
      alarms: AlarmPort;
      clock: Clock;
      log: Logger;
      deadlines: DeadlineTable;
      evidenceFlushMs: number;
      hooks: BookHooks;
    },
  ) {}

  get(key: string): Tracked | undefined {
    return this.byKey.get(key);
  }

  getById(id: string): Tracked | undefined {
    return this.byId.get(id);
  }

  openCount(): number {
    return this.byId.size;
  }

  tracked(): IterableIterator<Tracked> {
    return this.byId.values();
  }

  /** Whether a repeat of `key` at `now` falls in the cooldown after its alarm was closed. */
  coolingDown(keys: readonly string[], now: number, cooldownMs: number): boolean {
    if (cooldownMs <= 0) return false;
    for (const k of keys) {
      const at = this.closedAt.get(k);
      if (at !== undefined && now - at < cooldownMs) return true;
    }
    return false;
  }

  /** Catch-up: an alarm for one of these keys was already opened at or after the event (before the restart). */
  wasHandled(keys: readonly string[], eventReceivedAt: number): boolean {
    for (const k of keys) for (const h of this.handled.get(k) ?? []) if (h.openedAt >= eventReceivedAt - 1000) return true;
    return false;
  }

  setHandled(alarms: readonly StoredAlarm[]): void {
    this.handled.clear();
    for (const a of alarms) {
      const open = !CLOSED_STATUSES.includes(a.status);
      for (const k of a.dedupeKeys) {
        let list = this.handled.get(k);
        if (!list) this.handled.set(k, (list = []));
        list.push({ openedAt: a.openedAt, open });
        if (!open) this.closedAt.set(k, Math.max(this.closedAt.get(k) ?? 0, a.updatedAt));
      }
    }
  }

  clearHandled(): void {
    this.handled.clear();
  }

  /** Open an alarm now (the write follows); returns its book entry. */
  open(req: OpenRequest): Tracked {
    const now = this.o.clock.now();
    const t: Tracked = {
      id: uuidv7(now),
      rule: req.rule,
      level: req.level,
      keys: [...req.keys],
      openedAt: now,
      template: req,
      pendingIds: [],
      pendingTimes: 0,
      flushTimer: null,
      restoreTimer: null,
      restore: null,
      gone: false,
    };
    this.track(t);
    for (const e of req.eventIds) this.linkEvent(e, t.id, req.eventAt);
    const { acceptBy, closeBy } = deadlinesFor(this.o.deadlines, req.level, now);
    this.enqueue(t.id, async () => {
      try {
        const stored = await this.o.alarms.open(
          {
            id: t.id,
            rule: req.rule,
            level: req.level,
            category: req.category,
            title: req.title,
            deviceId: req.deviceId,
            grid: req.grid,
            place: req.place,
            openedAt: now,
            acceptBy,
            closeBy,
            evidence: req.eventIds.slice(0, 200),
            snapshots: [],
            dedupeKeys: req.keys,
            count: req.count ?? 1,
          },
          `rule:${req.rule}`,
        );
        this.o.hooks.opened(stored, req);
      } catch (err) {
        this.o.log.error({ err, rule: req.rule, alarmId: t.id }, 'could not open an alarm; the next matching event tries again');
        this.untrack(t);
      }
    });
    return t;
  }

  /** The condition repeated: count it now, write the evidence with the next flush. */
  repeat(t: Tracked, eventId: string, eventAt: number): void {
    t.pendingTimes++;
    if (t.pendingIds.length < PENDING_IDS_MAX) t.pendingIds.push(eventId);
    this.linkEvent(eventId, t.id, eventAt);
    t.flushTimer ??= this.o.clock.setTimer(this.o.evidenceFlushMs, () => this.flush(t));
  }

  /** Write a tracked alarm's pending repeats now. */
  flush(t: Tracked): void {
    t.flushTimer?.cancel();
    t.flushTimer = null;
    if (t.pendingTimes === 0) return;
    const ids = t.pendingIds;
    const times = t.pendingTimes;
    t.pendingIds = [];
    t.pendingTimes = 0;
    this.enqueue(t.id, async () => {
      try {
        await this.o.alarms.addEvidence(t.id, ids, `rule:${t.rule}`, times, times > 1 ? `重复 ${times} 次` : undefined);
      } catch (err) {
        if (err instanceof AlarmTransitionError) {
          // A person closed it meanwhile: these repeats belong to a new occurrence.
          const a = await this.o.alarms.get(t.id).catch(() => undefined);
          this.closed(t, a?.updatedAt ?? this.o.clock.now());
          this.o.hooks.closedWithPending(t, ids);
        } else this.o.log.error({ err, alarmId: t.id }, 'could not add evidence to an alarm');
      }
    });
  }

  flushAll(): void {
    for (const t of this.byId.values()) this.flush(t);
  }

  /** A correlation confirmed this alarm: raise its level, take the rule's title, add the events. */
  raise(t: Tracked, req: RaiseRequest): void {
    for (const k of req.keys) {
      if (t.keys.includes(k)) continue;
      t.keys.push(k);
      this.byKey.set(k, t);
    }
    for (const e of req.eventIds) this.linkEvent(e, t.id, req.eventAt);
    t.level = Math.min(t.level, req.level) as AlarmLevel;
    t.rule = req.rule;
    const keys = [...t.keys];
    this.enqueue(t.id, async () => {
      try {
        const stored = await this.o.alarms.act(t.id, 'raise', `rule:${req.rule}`, req.note, (a) => {
          const level = Math.min(a.level, req.level) as AlarmLevel;
          const d = deadlinesFor(this.o.deadlines, level, a.openedAt);
          return {
            ...a,
            level,
            rule: req.rule,
            category: req.category,
            title: req.title,
            acceptBy: a.acceptBy === null ? d.acceptBy : Math.min(a.acceptBy, d.acceptBy),
            closeBy: a.closeBy === null ? d.closeBy : Math.min(a.closeBy, d.closeBy),
            count: a.count + req.eventIds.filter((e) => !a.evidence.includes(e)).length,
            evidence: [...a.evidence, ...req.eventIds.filter((e) => !a.evidence.includes(e))].slice(0, 200),
            dedupeKeys: keys,
          };
        });
        this.o.hooks.raised(stored, req);
      } catch (err) {
        if (err instanceof AlarmTransitionError) this.closed(t, this.o.clock.now());
        else this.o.log.error({ err, alarmId: t.id, rule: req.rule }, 'could not raise an alarm');
      }
    });
  }

  /** Write a line into the alarm's history. */
  note(t: Tracked, actor: string, text: string): void {
    this.enqueue(t.id, async () => {
      try {
        await this.o.alarms.act(t.id, 'note', actor, text);
      } catch (err) {
        this.o.log.error({ err, alarmId: t.id }, 'could not add a note to an alarm');
      }
    });
  }

  /** The condition ended and the rule closes its own alarms (restore: resolve). */
  resolve(t: Tracked, actor: string, text: string): void {
    this.flush(t);
    this.untrack(t);
    this.enqueue(t.id, async () => {
      try {
        await this.o.alarms.act(t.id, 'resolve', actor, text);
      } catch (err) {
        if (!(err instanceof AlarmTransitionError)) this.o.log.error({ err, alarmId: t.id }, 'could not resolve an alarm');
      }
    });
    const now = this.o.clock.now();
    for (const k of t.keys) this.closedAt.set(k, now);
  }

  /** The alarm one of these events is evidence of, if it is still open. */
  alarmOfEvent(eventId: string): Tracked | undefined {
    const link = this.eventAlarm.get(eventId);
    return link ? this.byId.get(link.id) : undefined;
  }

  linkEvent(eventId: string, alarmId: string, at: number): void {
    this.eventAlarm.delete(eventId);
    this.eventAlarm.set(eventId, { id: alarmId, at });
  }

  /** Take an open alarm from the store into the book (restart). */
  adopt(a: StoredAlarm, keys: readonly string[], cooldownMs = 0): Tracked {
    const template: OpenRequest = {
      rule: a.rule,
      level: a.level,
      category: a.category,
      title: a.title,
      deviceId: a.deviceId,
      grid: a.grid,
      place: a.place ?? null,
      keys: [...keys],
      eventIds: [],
      eventAt: a.openedAt,
      cooldownMs,
    };
    const t: Tracked = {
      id: a.id,
      rule: a.rule,
      level: a.level,
      keys: [...keys],
      openedAt: a.openedAt,
      template,
      pendingIds: [],
      pendingTimes: 0,
      flushTimer: null,
      restoreTimer: null,
      restore: null,
      gone: false,
    };
    this.track(t);
    for (const e of a.evidence) this.linkEvent(e, a.id, a.updatedAt);
    return t;
  }

  /** Drop alarms a person has closed from the book (they are found lazily too, when a repeat cannot be added). */
  async reconcile(): Promise<void> {
    const open = new Set((await this.o.alarms.listOpen()).map((a) => a.id));
    for (const t of [...this.byId.values()]) {
      if (open.has(t.id) || this.chains.has(t.id)) continue;
      const a = await this.o.alarms.get(t.id).catch(() => undefined);
      if (!a || CLOSED_STATUSES.includes(a.status)) this.closed(t, a?.updatedAt ?? this.o.clock.now());
    }
    const now = this.o.clock.now();
    for (const [k, at] of this.closedAt) if (now - at > 86_400_000) this.closedAt.delete(k);
    this.pruneEvents(now);
  }

  /** Forget event → alarm links older than the longest correlation window. */
  pruneEvents(now: number): void {
    for (const [id, link] of this.eventAlarm) {
      if (now - link.at <= EVENT_LINK_MS) break; // insertion order is time order
      this.eventAlarm.delete(id);
    }
  }

  /** Resolves when the writes queued so far have finished (later ones may still run). */
  settled(): Promise<void> {
    return Promise.all([...this.chains.values()]).then(() => undefined);
  }

  /** Resolves when every queued write has finished. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    for (const t of this.byId.values()) {
      t.flushTimer?.cancel();
      t.flushTimer = null;
      t.restoreTimer?.cancel();
      t.restoreTimer = null;
    }
  }

  private closed(t: Tracked, at: number): void {
    if (t.gone) return;
    this.untrack(t);
    for (const k of t.keys) this.closedAt.set(k, Math.max(this.closedAt.get(k) ?? 0, at));
  }

  private track(t: Tracked): void {
    this.byId.set(t.id, t);
    for (const k of t.keys) this.byKey.set(k, t);
  }

  private untrack(t: Tracked): void {
    t.gone = true;
    t.flushTimer?.cancel();
    t.flushTimer = null;
    t.restoreTimer?.cancel();
    t.restoreTimer = null;
    this.byId.delete(t.id);
    for (const k of t.keys) if (this.byKey.get(k) === t) this.byKey.delete(k);
  }

  private enqueue(alarmId: string, fn: () => Promise<void>): void {
    this.inFlight++;
    const prev = this.chains.get(alarmId) ?? Promise.resolve();
    const run = prev.then(fn).catch((err: unknown) => this.o.log.error({ err, alarmId }, 'alarm write failed'));
    this.chains.set(alarmId, run);
    void run.finally(() => {
      if (this.chains.get(alarmId) === run) this.chains.delete(alarmId);
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
  }
}
