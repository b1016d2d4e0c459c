import type { GroupRuleConfig } from '../../../config/schema/rules.ts';
import type { EventKind } from '../../core/events.ts';
import type { Registry } from '../registry.ts';
import { kindLabel } from '../text.ts';
import { compileFilter, type EventView, type Matcher } from '../view.ts';
import type { AlarmSite, Host, Rule } from './common.ts';

/**
 * The same condition on several distinct devices of one building (or grid,
 * unit, site) within a window: two smoke sensors of one building is a fire,
 * three cameras of one grid going dark at once is sabotage or a power cut.
 */
export class GroupRule implements Rule {
  readonly id: string;
  readonly kinds: readonly EventKind[];
  readonly windowMs: number;
  private readonly match: Matcher;
  /** group → device → its latest matching event (insertion order = time order). */
  private readonly groups = new Map<string, Map<string, EventView>>();

  constructor(readonly config: GroupRuleConfig) {
    this.id = config.id;
    this.kinds = config.when.kinds;
    this.match = compileFilter(config.when);
    this.windowMs = config.withinSeconds * 1000;
  }

  onEvent(v: EventView, host: Host): void {
    if (v.e.initial || v.active !== this.config.when.active || !this.match(v) || !host.armed(this.config.armedBy, v)) return;
    const group = this.groupOf(v, host.registry);
    if (group === undefined) return;
    let members = this.groups.get(group.key);
    if (!members) this.groups.set(group.key, (members = new Map()));
    members.delete(v.e.deviceId);
    members.set(v.e.deviceId, v);
    for (const [id, m] of members) {
      if (v.at - m.at <= this.windowMs) break;
      members.delete(id);
    }
    if (members.size < this.config.minDevices) return;
    const key = `${this.id}|${group.key}`;
    const open = host.book.get(key);
    if (open) {
      host.repeat(open, v);
      return;
    }
    const events = [...members.values()];
    const site: AlarmSite = { title: `${this.config.name}：${group.label}`, deviceId: v.e.deviceId, grid: v.e.grid, place: group.place };
    const names = events.map((m) => m.device?.name ?? m.e.deviceId).join('、');
    const span = Math.round((events[events.length - 1]!.at - events[0]!.at) / 1000);
    host.confirm(
      this,
      site,
      events,
      key,
      this.config.absorb,
      `关联确认：${group.label} ${events.length} 台设备${kindLabel(v.e.kind)}（${names}），${span} 秒内`,
    );
  }

  devicesFor(): readonly string[] | null {
    return this.config.when.devices ?? null;
  }

  sweep(now: number): void {
    for (const [g, members] of this.groups) {
      for (const [id, m] of members) {
        if (now - m.at <= this.windowMs) break;
        members.delete(id);
      }
      if (members.size === 0) this.groups.delete(g);
    }
  }

  private groupOf(v: EventView, registry: Registry): { key: string; label: string; place: AlarmSite['place'] } | undefined {
    const d = v.device;
    const building = d?.building;
    const byGrid = () => {
      if (v.e.grid === null) return undefined;
      const label = registry.gridName(v.e.grid) ?? v.e.grid;
      return { key: `g:${v.e.grid}`, label, place: { name: label } };
    };
    switch (this.config.groupBy) {
      case 'building':
        return building ? { key: `b:${building}`, label: building, place: { building, name: building } } : undefined;
      case 'building_or_grid':
        return building ? { key: `b:${building}`, label: building, place: { building, name: building } } : byGrid();
      case 'unit':
        return building && d?.unit
          ? { key: `u:${building}/${d.unit}`, label: `${building}${d.unit}`, place: { building, unit: d.unit, name: `${building}${d.unit}` } }
          : undefined;
      case 'grid':
        return byGrid();
      case 'site':
        return { key: 'site', label: '全小区', place: null };
    }
  }
}
