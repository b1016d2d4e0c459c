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
  /** Recent anchors, oldest first (relations other than linked_camera). */
  private readonly firsts: EventView[] = [];
  /** linked_camera: recent anchors under each camera linked to them, oldest first, so a camera event looks only at its own. */
  private readonly firstsByCamera = new Map<string, EventView[]>();
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
      const linked = this.config.relation === 'linked_camera';
      const firsts = linked ? this.firstsByCamera.get(v.e.deviceId) : this.firsts;
      if (firsts) {
        for (let i = firsts.length - 1; i >= 0; i--) {
          const f = firsts[i]!;
          if (f.e.id !== v.e.id && Math.abs(v.at - f.at) <= this.windowMs && (linked || this.related(f, v, host))) {
            this.fire(f, v, host);
            break;
          }
        }
      }
    }
    if (isFirst) {
      if (this.config.relation === 'linked_camera') {
        for (const cam of host.registry.linkedCameras(v.e.deviceId, v.zone)) {
          let list = this.firstsByCamera.get(cam);
          if (!list) this.firstsByCamera.set(cam, (list = []));
          list.push(v);
          pruneList(list, v.at, this.windowMs);
        }
      } else {
        this.firsts.push(v);
        pruneList(this.firsts, v.at, this.windowMs);
      }
      const s = this.partnerOf(v, host);
      if (s) this.fire(v, s, host);
    }
  }

  devicesFor(kind: EventKind): readonly string[] | null {
    const parts = [...(this.firstKinds.has(kind) ? [this.config.first] : []), ...(this.secondKinds.has(kind) ? [this.config.second] : [])];
    if (parts.some((f) => !f.devices)) return null;
    return [...new Set(parts.flatMap((f) => f.devices!))];
  }

  sweep(now: number): void {
    pruneList(this.firsts, now, this.windowMs);
    for (const map of [this.seconds, this.firstsByCamera]) {
      for (const [id, list] of map) {
        pruneList(list, now, this.windowMs);
        if (list.length === 0) map.delete(id);
      }
    }
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

/** Drop entries older than the window from the front of a time-ordered list, in place. */
function pruneList(list: EventView[], now: number, windowMs: number): void {
  let n = 0;
  while (n < list.length && now - list[n]!.at > windowMs) n++;
  if (n > 0) list.splice(0, n);
}
