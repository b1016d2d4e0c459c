import type { ArmSourceConfig, RuleConfig } from '../../../config/schema/rules.ts';
import type { AlarmPlace } from '../../core/alarm.ts';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import type { EventKind } from '../../core/events.ts';
import type { AlarmBook, Tracked } from '../book.ts';
import type { Registry } from '../registry.ts';
import type { EventView } from '../view.ts';

/**
 * live: a new event. replay: an event the engine had already handled before a
 * restart (rebuild state, no effects). catchup: stored but not yet handled
 * when the box stopped (effects, unless an alarm for it exists already).
 */
export type Mode = 'live' | 'replay' | 'catchup';

/** What a rule may ask of the engine. */
export interface Host {
  readonly book: AlarmBook;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly mode: Mode;
  /** Whether one of the arming sources is armed for this event ([] is always armed). */
  armed(sources: readonly ArmSourceConfig[], v: EventView): boolean;
  /** Open an alarm for a rule (unless replaying, cooling down, or already handled before a restart). */
  open(rule: Rule, at: AlarmSite, events: readonly EventView[], keys: string[], count?: number): Tracked | undefined;
  /** A repeat of the condition of an open alarm. */
  repeat(t: Tracked, v: EventView): void;
  /** A correlation confirmed events: raise the alarm holding one of them, or open a new one. */
  confirm(rule: Rule, at: AlarmSite, events: readonly EventView[], key: string, absorb: boolean, note: string): void;
  note(t: Tracked, rule: Rule, text: string): void;
  /** The condition ended: note it (or close the alarm) once it has stayed ended for a while; a repeat before cancels it. */
  restored(t: Tracked, rule: Rule, text: string, resolve: boolean): void;
  timer(ms: number, fn: () => void): TimerHandle;
}

/** Where an alarm is and what it is called. */
export interface AlarmSite {
  title: string;
  deviceId: string | null;
  grid: string | null;
  place: AlarmPlace | null;
}

/** A compiled rule: the kinds it listens to, and what it does with an event of one of them. */
export interface Rule {
  readonly config: RuleConfig;
  readonly id: string;
  readonly kinds: readonly EventKind[];
  onEvent(v: EventView, host: Host): void;
  /** Forget windows older than `now` allows (called every sweep). */
  sweep(now: number): void;
  /** The longest look-back this rule needs after a restart, in ms. */
  readonly windowMs: number;
  /** The only devices whose events of `kind` it can match, or null for any (the engine indexes by them). */
  devicesFor(kind: EventKind): readonly string[] | null;
}

/** The alarm site of one event's point: its zone or device, titled with the rule's name. */
export function pointSite(rule: RuleConfig, v: EventView, registry: Registry): AlarmSite {
  const place = registry.placeOf(v.e.deviceId, v.zone);
  return {
    title: place?.name ? `${rule.name}：${place.name}` : v.e.deviceId === '_box' ? rule.name : `${rule.name}：${v.e.deviceId}`,
    deviceId: v.e.deviceId,
    grid: v.e.grid,
    place,
  };
}

/** The dedupe key of an event for a rule (rules.list[].dedupe). */
export function scopeKey(rule: RuleConfig, v: EventView): string {
  switch (rule.dedupe) {
    case 'point':
      return `${rule.id}|${v.point}`;
    case 'device':
      return `${rule.id}|${v.e.deviceId}`;
    case 'building':
      return `${rule.id}|b|${v.device?.building ?? v.e.deviceId}`;
    case 'grid':
      return `${rule.id}|g|${v.e.grid ?? '-'}`;
    case 'site':
      return `${rule.id}|site`;
  }
}

/** The alarm site for a dedupe scope wider than a point (one alarm per building, grid or site). */
export function scopeSite(rule: RuleConfig, v: EventView, registry: Registry): AlarmSite {
  const point = pointSite(rule, v, registry);
  switch (rule.dedupe) {
    case 'point':
    case 'device':
      return point;
    case 'building':
      return v.device?.building
        ? { ...point, title: `${rule.name}：${v.device.building}`, place: { building: v.device.building, name: v.device.building } }
        : point;
    case 'grid': {
      const name = registry.gridName(v.e.grid) ?? v.e.grid ?? '';
      return { ...point, title: `${rule.name}：${name}`, place: { name } };
    }
    case 'site':
      return { ...point, title: rule.name, place: null };
  }
}
