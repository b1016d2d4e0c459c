import type { Logger } from 'pino';
import type { ArmSourceConfig, RuleConfig } from '../../config/schema/rules.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventKind, StoredEvent } from '../core/events.ts';
import type { AlarmBook, Tracked } from './book.ts';
import type { Registry } from './registry.ts';
import type { AlarmSite, Host, Mode, Rule } from './rules/common.ts';
import { EventRule } from './rules/event-rule.ts';
import { GroupRule } from './rules/group-rule.ts';
import { PairRule } from './rules/pair-rule.ts';
import type { Schedules } from './schedule.ts';
import { duration, kindLabel } from './text.ts';
import { viewOf, type EventView } from './view.ts';

export interface ArmState {
  armed: boolean;
  mode: 'away' | 'home' | 'night' | null;
  at: number;
}

/** Health states the box itself reports, with a reliable end: never "stuck". */
const NEVER_STUCK: ReadonlySet<EventKind> = new Set<EventKind>(['device_offline', 'event_channel_lost', 'device_silent', 'trouble', 'battery_low']);
const ERROR_LOG_INTERVAL_MS = 60_000;
/** A restore is written only after this much quiet: a flapping condition restores many times. */
export const RESTORE_QUIET_MS = 30_000;

export interface EngineOptions {
  rules: readonly RuleConfig[];
  registry: Registry;
  schedules: Schedules;
  clock: Clock;
  log: Logger;
  book: AlarmBook;
  maintenance: { isOn(deviceId: string, at: number): boolean };
  /** rules.stuckMinutes: the default for rules that do not set their own. */
  stuckMinutes: number;
  /** A panel was armed or disarmed (the detection component keeps it across restarts). */
  onArming?(panel: string, state: ArmState): void;
}

interface ActiveState {
  since: number;
  kind: EventKind;
  name: string;
  alarms: Set<string>;
}

export function compileRule(r: RuleConfig): Rule {
  switch (r.type) {
    case 'event':
      return new EventRule(r);
    case 'pair':
      return new PairRule(r);
    case 'group':
      return new GroupRule(r);
  }
}

/**
 * The rules engine: events in seq order in, alarm decisions out. Rules are
 * indexed by event kind, so an event costs only the rules that listen to its
 * kind. Decisions are synchronous and deterministic (event order, event time,
 * the injected clock); the alarm writes they cause are queued by the book.
 * A rule that throws is logged and skipped; the others still run.
 */
export class Engine implements Host {
  mode: Mode = 'live';
  /** Events received before this were seen by an earlier run (or are caught up now). */
  startedAt: number;
  readonly book: AlarmBook;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly rules: readonly Rule[];
  /** kind → rules that match any device, and rules limited to named devices (by device). */
  private readonly byKind = new Map<EventKind, { any: Rule[]; byDevice: Map<string, Rule[]>; merged: Map<string, Rule[]> }>();
  private readonly order = new Map<Rule, number>();
  private readonly byId = new Map<string, Rule>();
  private readonly arming = new Map<string, ArmState>();
  private readonly offline = new Set<string>();
  private readonly states = new Map<string, ActiveState>();
  private readonly stuckMs = new Map<EventKind, number>();
  private readonly errors = new Map<string, { count: number; loggedAt: number; suppressed: number }>();
  readonly stats = { events: 0, maintenanceSkipped: 0, ruleErrors: 0 };

  constructor(private readonly o: EngineOptions) {
    this.book = o.book;
    this.registry = o.registry;
    this.clock = o.clock;
    this.startedAt = o.clock.now();
    this.rules = o.rules.filter((r) => r.enabled).map(compileRule);
    this.rules.forEach((r, i) => this.order.set(r, i));
    for (const r of this.rules) {
      this.byId.set(r.id, r);
      for (const k of r.kinds) {
        let idx = this.byKind.get(k);
        if (!idx) this.byKind.set(k, (idx = { any: [], byDevice: new Map(), merged: new Map() }));
        const devices = r.devicesFor(k);
        if (devices === null) idx.any.push(r);
        else {
          for (const d of devices) {
            let list = idx.byDevice.get(d);
            if (!list) idx.byDevice.set(d, (list = []));
            list.push(r);
          }
        }
        if (!NEVER_STUCK.has(k)) {
          const ms = (r.config.stuckMinutes ?? o.stuckMinutes) * 60_000;
          this.stuckMs.set(k, Math.min(this.stuckMs.get(k) ?? Infinity, ms));
        }
      }
    }
  }

  rule(id: string): Rule | undefined {
    return this.byId.get(id);
  }

  /** The longest look-back any rule needs: how far a restart replays stored events. */
  windowMs(): number {
    let w = 0;
    for (const r of this.rules) w = Math.max(w, r.windowMs);
    for (const ms of this.stuckMs.values()) w = Math.max(w, ms);
    return w;
  }

  /** Handle one stored event (in seq order). */
  process(e: StoredEvent, mode: Mode = 'live'): void {
    this.mode = mode;
    this.stats.events++;
    try {
      const rules = this.rulesFor(e.kind, e.deviceId);
      if (!rules && e.kind !== 'armed' && e.kind !== 'disarmed' && e.kind !== 'device_offline') return;
      const v = viewOf(e, this.registry);
      // Facts first: they hold even for a device in maintenance.
      if (e.kind === 'armed' || e.kind === 'disarmed') this.arm(v);
      else if (e.kind === 'device_offline') {
        if (e.active) this.offline.add(e.deviceId);
        else this.offline.delete(e.deviceId);
      }
      if (!rules) return;
      if (v.stateful && this.stuckMs.has(e.kind)) this.trackState(v);
      if (this.o.maintenance.isOn(e.deviceId, v.at)) {
        this.stats.maintenanceSkipped++;
        return;
      }
      for (const r of rules) {
        try {
          r.onEvent(v, this);
        } catch (err) {
          this.ruleFailed(r.id, err, e);
        }
      }
    } finally {
      this.mode = 'live';
    }
  }

  /** The rules an event of this kind from this device goes through, in the order of the site file. */
  private rulesFor(kind: EventKind, deviceId: string): readonly Rule[] | undefined {
    const idx = this.byKind.get(kind);
    if (!idx) return undefined;
    if (idx.byDevice.size === 0) return idx.any.length > 0 ? idx.any : undefined;
    let list = idx.merged.get(deviceId);
    if (!list) {
      list = [...idx.any, ...(idx.byDevice.get(deviceId) ?? [])].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
      if (idx.merged.size < 10_000) idx.merged.set(deviceId, list);
    }
    return list.length > 0 ? list : undefined;
  }

  isOffline(deviceId: string): boolean {
    return this.offline.has(deviceId);
  }

  armState(panel: string): ArmState | undefined {
    return this.arming.get(panel);
  }

  /** Arming as it was before a restart (the replay then brings it up to date). */
  restoreArming(states: Iterable<[string, ArmState]>): void {
    for (const [panel, s] of states) this.arming.set(panel, s);
  }

  /** Clear stuck states and forget expired windows; the detection component calls this periodically. */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, st] of this.states) {
      const limit = this.stuckMs.get(st.kind) ?? Infinity;
      if (now - st.since < limit) continue;
      this.states.delete(key);
      for (const id of st.alarms) {
        const t = this.book.getById(id);
        if (t) {
          this.book.note(
            t,
            'system',
            `${kindLabel(st.kind)}（${st.name}）已持续 ${duration(now - st.since)} 未收到结束信号，状态已自动清除；警情保留，请人工办结`,
          );
        }
      }
    }
    for (const r of this.rules) {
      try {
        r.sweep(now);
      } catch (err) {
        this.ruleFailed(r.id, err);
      }
    }
    this.book.pruneEvents(now);
  }

  activeStates(): number {
    return this.states.size;
  }

  // ------------------------------------------------------------------ Host

  armed(sources: readonly ArmSourceConfig[], v: EventView): boolean {
    if (sources.length === 0) return true;
    for (const s of sources) {
      if (s.schedule !== undefined) {
        if (this.o.schedules.isActive(s.schedule, v.at)) return true;
      } else if (s.panel !== undefined) {
        const st = this.arming.get(s.panel === 'self' ? v.e.deviceId : s.panel);
        if (st?.armed && (!s.modes || (st.mode !== null && s.modes.includes(st.mode)))) return true;
      }
    }
    return false;
  }

  open(rule: Rule, site: AlarmSite, events: readonly EventView[], keys: string[], count = events.length): Tracked | undefined {
    if (this.mode === 'replay') return undefined;
    const first = events[0]!;
    if (first.e.receivedAt < this.startedAt && this.book.wasHandled(keys, first.e.receivedAt)) return undefined;
    const c = rule.config;
    if (this.book.coolingDown(keys, this.clock.now(), c.cooldownSeconds * 1000)) return undefined;
    const t = this.book.open({
      rule: rule.id,
      level: c.level,
      category: c.category,
      title: site.title,
      deviceId: site.deviceId,
      grid: site.grid,
      place: site.place,
      keys,
      eventIds: events.map((v) => v.e.id),
      eventAt: events[events.length - 1]!.e.receivedAt,
      cooldownMs: c.cooldownSeconds * 1000,
      count,
    });
    for (const v of events) this.attachState(v, t);
    return t;
  }

  repeat(t: Tracked, v: EventView): void {
    if (this.mode === 'replay') return;
    t.restore = null; // came back: the pending restore is void (its timer finds nothing to do)
    if (this.mode === 'catchup' && this.book.alarmOfEvent(v.e.id) === t) return;
    this.book.repeat(t, v.e.id, v.e.receivedAt);
    this.attachState(v, t);
  }

  confirm(rule: Rule, site: AlarmSite, events: readonly EventView[], key: string, absorb: boolean, note: string): void {
    if (this.mode === 'replay') return;
    const first = events[0]!;
    if (first.e.receivedAt < this.startedAt && this.book.wasHandled([key], first.e.receivedAt)) return;
    const holders: Tracked[] = [];
    for (const v of events) {
      const t = this.book.alarmOfEvent(v.e.id);
      if (t && !holders.includes(t)) holders.push(t);
    }
    holders.sort((a, b) => a.openedAt - b.openedAt);
    const c = rule.config;
    if (absorb && holders.length > 0) {
      const t = holders[0]!;
      this.book.raise(t, {
        rule: rule.id,
        level: c.level,
        category: c.category,
        title: site.title,
        note,
        eventIds: events.map((v) => v.e.id),
        keys: [key],
        eventAt: events[events.length - 1]!.e.receivedAt,
      });
      for (const h of holders.slice(1)) this.book.note(h, `rule:${rule.id}`, `已并入警情 ${t.id}：${site.title}`);
      return;
    }
    const t = this.open(rule, site, events, [key], 1);
    if (t) {
      this.book.note(t, `rule:${rule.id}`, note);
      for (const h of holders) this.book.note(h, `rule:${rule.id}`, `关联警情 ${t.id}：${site.title}`);
    }
  }

  note(t: Tracked, rule: Rule, text: string): void {
    if (this.mode !== 'replay') this.book.note(t, `rule:${rule.id}`, text);
  }

  restored(t: Tracked, rule: Rule, text: string, resolve: boolean): void {
    if (this.mode === 'replay') return;
    t.restore = { at: this.clock.now(), text, resolve, actor: `rule:${rule.id}` };
    if (!t.restoreTimer) this.armRestore(t, RESTORE_QUIET_MS); // one timer per alarm, however often it flaps
  }

  private armRestore(t: Tracked, ms: number): void {
    t.restoreTimer = this.timer(ms, () => {
      t.restoreTimer = null;
      const r = t.restore;
      if (t.gone || !r) return;
      const quiet = this.clock.now() - r.at;
      if (quiet < RESTORE_QUIET_MS) return this.armRestore(t, RESTORE_QUIET_MS - quiet);
      t.restore = null;
      if (r.resolve) this.book.resolve(t, r.actor, r.text);
      else this.book.note(t, r.actor, r.text);
    });
  }

  timer(ms: number, fn: () => void): TimerHandle {
    return this.clock.setTimer(ms, () => {
      try {
        fn();
      } catch (err) {
        this.o.log.error({ err }, 'a detection timer failed');
      }
    });
  }

  // ------------------------------------------------------------------ internals

  private arm(v: EventView): void {
    const e = v.e;
    const state: ArmState = { armed: e.kind === 'armed', mode: e.kind === 'armed' ? e.attrs.mode : null, at: v.at };
    const prev = this.arming.get(e.deviceId);
    if (prev && prev.at > v.at) return; // an older report arriving late changes nothing
    this.arming.set(e.deviceId, state);
    if (this.mode !== 'replay') this.o.onArming?.(e.deviceId, state);
  }

  private trackState(v: EventView): void {
    const key = `${v.point}|${v.e.kind}`;
    if (!v.e.active) {
      this.states.delete(key);
      return;
    }
    if (!this.states.has(key)) this.states.set(key, { since: v.at, kind: v.e.kind, name: v.device?.name ?? v.e.deviceId, alarms: new Set() });
  }

  private attachState(v: EventView, t: Tracked): void {
    if (!v.stateful || !v.e.active) return;
    this.states.get(`${v.point}|${v.e.kind}`)?.alarms.add(t.id);
  }

  private ruleFailed(ruleId: string, err: unknown, e?: StoredEvent): void {
    this.stats.ruleErrors++;
    const now = this.clock.now();
    const rec = this.errors.get(ruleId) ?? { count: 0, loggedAt: -Infinity, suppressed: 0 };
    rec.count++;
    this.errors.set(ruleId, rec);
    if (now - rec.loggedAt < ERROR_LOG_INTERVAL_MS) {
      rec.suppressed++;
      return;
    }
    this.o.log.error(
      { err, rule: ruleId, eventSeq: e?.seq, kind: e?.kind, deviceId: e?.deviceId, suppressedSinceLast: rec.suppressed },
      'a detection rule failed on an event; the other rules ran (fix or disable the rule; logged at most once a minute per rule)',
    );
    rec.loggedAt = now;
    rec.suppressed = 0;
  }

  /** Failures per rule since start (for tests and /metrics). */
  ruleErrors(): ReadonlyMap<string, number> {
    return new Map([...this.errors].map(([k, v]) => [k, v.count]));
  }
}
