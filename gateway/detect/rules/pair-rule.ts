import type { PairRuleConfig } from '../../../config/schema/rules.ts';
import type { EventKind } from '../../core/events.ts';
import { kindLabel } from '../text.ts';
import { compileFilter, type EventView, type Matcher } from '../view.ts';
import { pointSite, type Host, type Rule } from './common.ts';

const PER_DEVICE = 8;

/**
 * Two related events within a window confirm each other, in either order:
 * a forced door and motion on a camera linked to it is an intrusion, not a
 * faulty contact. The first event's point is the alarm's place.
 */
export class PairRule implements Rule {
  readonly id: string;
  readonly kinds: readonly EventKind[];
  readonly windowMs: number;
  private readonly firstKinds: ReadonlySet<EventKind>;
  private readonly secondKinds: ReadonlySet<EventKind>;
  private readonly matchFirst: Matcher;
  private readonly matchSecond: Matcher;
  /** Recent anchors, oldest first. */
  private firsts: EventView[] = [];
  /** Recent confirming events per device, oldest first. */
  private readonly seconds = new Map<string, EventView[]>();

  constructor(readonly config: PairRuleConfig) {
    this.id = config.id;
    this.firstKinds = new Set(config.first.kinds);
    this.secondKinds = new Set(config.second.kinds);
    this.kinds = [...new Set([...config.first.kinds, ...config.second.kinds])];
    this.matchFirst = compileFilter(config.first);
    this.matchSecond = compileFilter(config.second);
    this.windowMs = config.withinSeconds * 1000;
  }

  onEvent(v: EventView, host: Host): void {
    if (v.e.initial) return;
    const k = v.e.kind;
    const isSecond = this.secondKinds.has(k) && v.active === this.config.second.active && this.matchSecond(v);
    const isFirst = this.firstKinds.has(k) && v.active === this.config.first.active && this.matchFirst(v) && host.armed(this.config.armedBy, v);
    if (isSecond) {
      let list = this.seconds.get(v.e.deviceId);
      if (!list) this.seconds.set(v.e.deviceId, (list = []));
      list.push(v);
      if (list.length > PER_DEVICE) list.shift();
      for (let i = this.firsts.length - 1; i >= 0; i--) {
        const f = this.firsts[i]!;
        if (f.e.id !== v.e.id && Math.abs(v.at - f.at) <= this.windowMs && this.related(f, v, host)) {
          this.fire(f, v, host);
          break;
        }
      }
    }
    if (isFirst) {
      this.firsts.push(v);
      this.prune(v.at);
      const s = this.partnerOf(v, host);
      if (s) this.fire(v, s, host);
    }
  }

  sweep(now: number): void {
    this.prune(now);
    for (const [id, list] of this.seconds) {
      while (list.length > 0 && now - list[0]!.at > this.windowMs) list.shift();
      if (list.length === 0) this.seconds.delete(id);
    }
  }

  private prune(now: number): void {
    let n = 0;
    while (n < this.firsts.length && now - this.firsts[n]!.at > this.windowMs) n++;
    if (n > 0) this.firsts = this.firsts.slice(n);
  }

  /** The nearest recent confirming event related to an anchor. */
  private partnerOf(f: EventView, host: Host): EventView | undefined {
    const candidates =
      this.config.relation === 'linked_camera'
        ? host.registry.linkedCameras(f.e.deviceId, f.zone).map((cam) => this.seconds.get(cam) ?? [])
        : this.config.relation === 'same_device'
          ? [this.seconds.get(f.e.deviceId) ?? []]
          : [...this.seconds.values()];
    let best: EventView | undefined;
    for (const list of candidates) {
      for (const s of list) {
        if (s.e.id === f.e.id || Math.abs(s.at - f.at) > this.windowMs || !this.related(f, s, host)) continue;
        if (!best || Math.abs(s.at - f.at) < Math.abs(best.at - f.at)) best = s;
      }
    }
    return best;
  }

  private related(f: EventView, s: EventView, host: Host): boolean {
    switch (this.config.relation) {
      case 'linked_camera':
        return host.registry.isLinked(f.e.deviceId, f.zone, s.e.deviceId);
      case 'same_device':
        return f.e.deviceId === s.e.deviceId;
      case 'same_building':
        return f.device?.building !== undefined && f.device.building === s.device?.building;
      case 'same_grid':
        return f.e.grid !== null && f.e.grid === s.e.grid;
    }
  }

  private fire(f: EventView, s: EventView, host: Host): void {
    const key = `${this.id}|${f.point}`;
    const open = host.book.get(key);
    if (open) {
      host.repeat(open, s);
      return;
    }
    const site = pointSite(this.config, f, host.registry);
    const gap = Math.round(Math.abs(s.at - f.at) / 1000);
    const note = `关联确认：${site.place?.name ?? f.e.deviceId}${kindLabel(f.e.kind)}，${s.device?.name ?? s.e.deviceId}${kindLabel(s.e.kind)}，相隔 ${gap} 秒`;
    host.confirm(this, site, [f, s], key, this.config.absorb, note);
  }
}
