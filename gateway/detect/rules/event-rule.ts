import type { EventRuleConfig } from '../../../config/schema/rules.ts';
import type { TimerHandle } from '../../core/clock.ts';
import type { EventKind } from '../../core/events.ts';
import { duration, kindLabel } from '../text.ts';
import { compileFilter, type EventView, type Matcher } from '../view.ts';
import { scopeKey, scopeSite, type Host, type Rule } from './common.ts';

interface Hold {
  since: number;
  events: EventView[];
  timer: TimerHandle;
}

/**
 * One event opens the alarm: filters, arming, then either at once, after a
 * threshold of repeats (flap filter), or after the condition has held for a
 * while without a stop (debounce). While the alarm is open, repeats add
 * evidence; the stop of the condition (restore) is noted or closes it.
 */
export class EventRule implements Rule {
  readonly id: string;
  readonly kinds: readonly EventKind[];
  readonly windowMs: number;
  private readonly match: Matcher;
  private readonly wantActive: boolean;
  private readonly counts = new Map<string, { at: number[]; events: EventView[] }>();
  private readonly holds = new Map<string, Hold>();

  constructor(readonly config: EventRuleConfig) {
    this.id = config.id;
    this.kinds = config.when.kinds;
    this.match = compileFilter(config.when);
    this.wantActive = config.when.active;
    this.windowMs = Math.max((config.threshold?.withinSeconds ?? 0) * 1000, (config.holdSeconds ?? 0) * 1000);
  }

  onEvent(v: EventView, host: Host): void {
    if (!this.match(v)) return;
    if (v.active !== this.wantActive) {
      if (this.wantActive && v.stateful) this.restore(v, host);
      return;
    }
    if (v.e.initial) return; // a state snapshot at (re)subscription, not a new change
    if (!host.armed(this.config.armedBy, v)) return;
    const key = scopeKey(this.config, v);
    const open = host.book.get(key);
    if (open) {
      host.repeat(open, v);
      return;
    }
    if (this.config.holdSeconds !== undefined) this.holdOn(key, v, host);
    else if (this.config.threshold) this.count(key, v, host);
    else host.open(this, scopeSite(this.config, v, host.registry), [v], [key]);
  }

  devicesFor(): readonly string[] | null {
    return this.config.when.devices ?? null;
  }

  sweep(now: number): void {
    const within = (this.config.threshold?.withinSeconds ?? 0) * 1000;
    for (const [k, c] of this.counts) if (now - c.at[c.at.length - 1]! > within) this.counts.delete(k);
  }

  /** Flap filter: open only when `count` matches fall within `withinSeconds`. */
  private count(key: string, v: EventView, host: Host): void {
    const { count, withinSeconds } = this.config.threshold!;
    let c = this.counts.get(key);
    if (!c) this.counts.set(key, (c = { at: [], events: [] }));
    c.at.push(v.at);
    c.events.push(v);
    const from = v.at - withinSeconds * 1000;
    while (c.at.length > 0 && (c.at[0]! < from || c.at.length > count)) {
      c.at.shift();
      c.events.shift();
    }
    if (c.at.length < count) return;
    this.counts.delete(key);
    host.open(this, scopeSite(this.config, v, host.registry), c.events, [key]);
  }

  /** Debounce: open when the condition has stayed active for holdSeconds (by the event's time). */
  private holdOn(key: string, v: EventView, host: Host): void {
    const h = this.holds.get(key);
    if (h) {
      if (h.events.length < 20) h.events.push(v);
      return;
    }
    const holdMs = this.config.holdSeconds! * 1000;
    const delay = Math.max(0, v.at + holdMs - host.clock.now());
    const hold: Hold = {
      since: v.at,
      events: [v],
      timer: host.timer(delay, () => {
        if (this.holds.get(key) !== hold) return;
        this.holds.delete(key);
        if (host.book.get(key)) return;
        const first = hold.events[0]!;
        host.open(this, scopeSite(this.config, first, host.registry), hold.events, [key]);
      }),
    };
    this.holds.set(key, hold);
  }

  private restore(v: EventView, host: Host): void {
    const key = scopeKey(this.config, v);
    const h = this.holds.get(key);
    if (h) {
      h.timer.cancel();
      this.holds.delete(key);
    }
    const t = host.book.get(key); // threshold counts stay: a flapping camera stops and starts
    if (!t || host.mode === 'replay') return;
    const text = `${kindLabel(v.e.kind)}已恢复（${v.device?.name ?? v.e.deviceId}），持续 ${duration(Math.max(0, v.at - t.openedAt))}`;
    if (this.config.restore === 'note') host.restored(t, this, text, false);
    else if (this.config.restore === 'resolve') host.restored(t, this, `${text}，自动办结`, true);
  }

  /** Pending holds (for tests and the rebuild). */
  pendingHolds(): number {
    return this.holds.size;
  }
}
