import type { Logger } from 'pino';
import type { SiteConfig } from '../../config/schema.ts';
import { effectiveRules, type RuleConfig } from '../../config/schema/rules.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Component } from '../core/component.ts';
import type { StoredEvent } from '../core/events.ts';
import { DetectStateStore } from '../store/detect-state.ts';
import type { StoredAlarm } from '../store/alarms.ts';
import type { Store } from '../store/store.ts';
import { AlarmBook, type OpenRequest, type RaiseRequest, type Tracked } from './book.ts';
import { Deadlines } from './deadlines.ts';
import { Engine, type ArmState } from './engine.ts';
import { Linkage } from './linkage.ts';
import { Maintenance, type MaintenanceEntry } from './maintenance.ts';
import type { CommandPort } from './ports.ts';
import { Registry } from './registry.ts';
import { Schedules } from './schedule.ts';

export interface DetectionOptions {
  config: Pick<SiteConfig, 'site' | 'grids' | 'devices' | 'rules'>;
  store: Store;
  commands: CommandPort;
  clock: Clock;
  log: Logger;
  /** The driver's view of a device: false when it has no connection now, null when it cannot tell. */
  reachable?: (deviceId: string) => boolean | null;
  /** Repeats of an open alarm are written at most this often (default 2 s). */
  evidenceFlushMs?: number;
}

const SWEEP_MS = 30_000;
const RECONCILE_MS = 60_000;
const CURSOR_MS = 2_000;
/** Replay a little more than the longest rule window, for events that arrived late. */
const REPLAY_MARGIN_MS = 60_000;
const PAGE = 1000;

/**
 * Local detection as a component: the rules engine fed with every stored
 * event (in seq order), its book of open alarms, deadlines, linkage and
 * maintenance flags. On start it rebuilds from the store — open alarms, panel
 * arming, the recent events inside the longest rule window (replayed without
 * effects), and the events stored after the last one it had handled (caught
 * up with effects, unless their alarm exists already) — then takes live events.
 */
export class Detection implements Component {
  readonly name = 'detect';
  readonly registry: Registry;
  readonly engine: Engine;
  readonly book: AlarmBook;
  readonly deadlines: Deadlines;
  readonly linkage: Linkage;
  readonly maintenance: Maintenance;
  readonly rules: readonly { rule: RuleConfig; source: 'builtin' | number }[];
  private state: DetectStateStore | null = null;
  private ready = false;
  private buffer: StoredEvent[] = [];
  private lastSeq = 0;
  /** The cursor written (or being written). */
  private savedSeq = 0;
  private timers: TimerHandle[] = [];
  private cursorWrite: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: DetectionOptions) {
    const { config, clock, log } = o;
    this.registry = new Registry(config.devices, config.grids);
    this.rules = effectiveRules(config.rules);
    this.maintenance = new Maintenance(this.registry, clock, log, {
      save: (row) => this.stateStore().setMaintenance(row),
      audit: (e) => o.store.audit.record(e),
    });
    this.deadlines = new Deadlines({ alarms: o.store.alarms, clock, log, escalation: config.rules.escalation });
    this.linkage = new Linkage({
      commands: o.commands,
      alarms: o.store.alarms,
      registry: this.registry,
      clock,
      log,
      isAway: (id) => this.engine.isOffline(id) || o.reachable?.(id) === false,
      recordUnsent: (req, at, detail) => o.commands.expireUnsent(req, at, detail),
    });
    this.book = new AlarmBook({
      alarms: o.store.alarms,
      clock,
      log,
      deadlines: config.rules.deadlines,
      evidenceFlushMs: o.evidenceFlushMs ?? 2_000,
      hooks: {
        opened: (a, req) => this.opened(a, req),
        raised: (a, req) => this.raised(a, req),
        closedWithPending: (t, ids) => this.reopen(t, ids),
      },
    });
    this.engine = new Engine({
      rules: this.rules.map((r) => r.rule),
      registry: this.registry,
      schedules: new Schedules(config.rules.schedules, config.site.timezone),
      clock,
      log,
      book: this.book,
      maintenance: this.maintenance,
      stuckMinutes: config.rules.stuckMinutes,
      onArming: (panel, s) => this.saveArming(panel, s),
    });
  }

  /** Feed one stored event (the bus `event.stored`); before start they wait. */
  handle(e: StoredEvent): void {
    if (!this.ready) {
      if (!this.stopped) this.buffer.push(e);
      return;
    }
    if (e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    this.engine.process(e, 'live');
    if (e.kind === 'device_offline' && !e.active) this.linkage.deviceBack(e.deviceId);
  }

  async start(): Promise<void> {
    const { store, clock, log } = this.o;
    const started = clock.now();
    this.state = await DetectStateStore.open(store.file, store.writer);
    this.maintenance.load(await this.state.maintenance());
    this.engine.restoreArming((await this.state.list<ArmState>('armed:')).map((x) => [x.key.slice('armed:'.length), x.value] as [string, ArmState]));

    const open = await store.alarms.listOpen();
    for (const a of open) {
      const cooldown = (this.engine.rule(a.rule)?.config.cooldownSeconds ?? 0) * 1000;
      this.book.adopt(a, a.dedupeKeys.length > 0 ? a.dedupeKeys : [`${a.rule}|${a.deviceId ?? '-'}`], cooldown);
    }
    await this.deadlines.rebuild(open);

    const last = store.events.lastSeq();
    const stored = await this.state.get<number>('cursor');
    // First run: nothing of the past is caught up — except on a database the store just recovered, whose only
    // events are this run's own (storage_recovered must still become a trouble alarm for a person).
    const cursor = stored ?? (store.recovery ? 0 : last);
    if (stored === undefined) await this.state.set([{ key: 'cursor', value: cursor }], started);
    const since = started - this.engine.windowMs() - REPLAY_MARGIN_MS;
    this.book.setHandled(await store.alarms.openedSince(since));
    this.engine.startedAt = started;
    let after = Math.min(await this.state.seqBefore(since - 1), cursor);
    let replayed = 0;
    let caughtUp = 0;
    while (after < last) {
      const page = await store.events.read({ after, limit: PAGE });
      if (page.length === 0) break;
      for (const e of page) {
        if (e.seq > last) break;
        if (e.seq <= cursor) {
          this.engine.process(e, 'replay');
          replayed++;
        } else {
          this.engine.process(e, 'catchup');
          caughtUp++;
        }
        after = e.seq;
      }
    }
    this.lastSeq = Math.max(last, cursor);
    this.savedSeq = cursor;
    this.ready = true;
    const buffered = this.buffer.splice(0);
    for (const e of buffered) this.handle(e);

    this.every(SWEEP_MS, () => this.engine.sweep());
    this.every(RECONCILE_MS, () => void this.book.reconcile().catch((err: unknown) => log.error({ err }, 'could not reconcile open alarms')));
    this.every(CURSOR_MS, () => void this.saveCursor());
    log.info(
      {
        rules: this.engine.rules.length,
        openAlarms: open.length,
        replayed,
        caughtUp,
        maintenance: this.maintenance.list().length,
        deadlines: this.deadlines.pending(),
      },
      'detection started',
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ready = false;
    for (const t of this.timers.splice(0)) t.cancel();
    this.book.flushAll();
    this.linkage.stop();
    this.deadlines.stop();
    await this.idle();
    this.book.stop();
    await this.saveCursor();
    await this.cursorWrite;
    await this.state?.close();
    this.state = null;
  }

  /** Resolves when every alarm write, deadline action and linkage step started so far has finished. */
  async idle(): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await this.book.idle();
      await this.deadlines.idle();
      await this.linkage.idle();
      await this.book.idle();
    }
  }

  /** Put a device into maintenance or take it out (installer panel); audited. */
  setMaintenance(deviceId: string, on: boolean, actor: string, reason: string, minutes?: number): Promise<MaintenanceEntry | null> {
    return this.maintenance.set(deviceId, on, actor, reason, minutes);
  }

  listMaintenance(): MaintenanceEntry[] {
    return this.maintenance.list();
  }

  // ------------------------------------------------------------------ internals

  private stateStore(): DetectStateStore {
    if (!this.state) throw new Error('detection is not started');
    return this.state;
  }

  private every(ms: number, fn: () => void): void {
    const slot = this.timers.length;
    const tick = () => {
      if (this.stopped) return;
      try {
        fn();
      } catch (err) {
        this.o.log.error({ err }, 'a detection timer failed');
      }
      this.timers[slot] = this.o.clock.setTimer(ms, tick);
    };
    this.timers.push(this.o.clock.setTimer(ms, tick));
  }

  private opened(a: StoredAlarm, req: OpenRequest): void {
    this.deadlines.track(a);
    const rule = this.engine.rule(req.rule)?.config;
    if (rule?.linkage) this.linkage.run(a, rule, req.eventAt);
    this.o.log.info({ alarmId: a.id, rule: a.rule, alarmLevel: a.level, title: a.title, deviceId: a.deviceId }, 'alarm opened');
  }

  private raised(a: StoredAlarm, req: RaiseRequest): void {
    this.deadlines.track(a);
    const rule = this.engine.rule(req.rule)?.config;
    if (rule?.linkage) this.linkage.run(a, rule, req.eventAt);
    this.o.log.info({ alarmId: a.id, rule: a.rule, alarmLevel: a.level, title: a.title }, 'alarm raised by a correlation');
  }

  /** Repeats arrived after a person closed the alarm: a new occurrence, unless in its cooldown. */
  private reopen(t: Tracked, eventIds: string[]): void {
    const now = this.o.clock.now();
    if (this.book.coolingDown(t.keys, now, t.template.cooldownMs) || t.keys.some((k) => this.book.get(k))) return;
    this.book.open({ ...t.template, keys: t.keys, eventIds, eventAt: now, count: eventIds.length });
  }

  private saveArming(panel: string, s: ArmState): void {
    if (!this.state) return;
    this.state
      .set([{ key: `armed:${panel}`, value: s }], this.o.clock.now())
      .catch((err: unknown) => this.o.log.error({ err, panel }, 'could not keep the arming state'));
  }

  /** Keep how far detection got, but only past events whose alarm writes have committed. */
  private saveCursor(): Promise<void> {
    const seq = this.lastSeq;
    if (seq <= this.savedSeq || !this.state) return this.cursorWrite;
    const state = this.state;
    const before = this.savedSeq;
    this.savedSeq = seq;
    this.cursorWrite = this.cursorWrite
      .then(() => this.book.settled())
      .then(() => state.set([{ key: 'cursor', value: seq }], this.o.clock.now()))
      .catch((err: unknown) => {
        if (this.savedSeq === seq) this.savedSeq = before; // try again with the next tick
        this.o.log.error({ err }, 'could not keep the detection cursor');
      });
    return this.cursorWrite;
  }
}
