import type { FilterConfig } from '../../config/schema/rules.ts';
import { occurredAt, type EventKind, type StoredEvent } from '../core/events.ts';
import type { DeviceInfo, Registry } from './registry.ts';

/**
 * Kinds that are one-off happenings, not a state with a start and an end:
 * they are always "active", never restored, never stuck.
 */
export const MOMENTARY: ReadonlySet<EventKind> = new Set<EventKind>([
  'line_crossing',
  'door_forced',
  'access_granted',
  'access_denied',
  'armed',
  'disarmed',
  'clock_skew',
  'auth_failed',
  'generic',
  'storage_loss',
  'storage_recovered',
  'box_started',
]);

/** One event as the rules see it: looked up and derived once, shared by every rule. */
export interface EventView {
  e: StoredEvent;
  device: DeviceInfo | undefined;
  /** Time to believe (device time when its clock is trusted). */
  at: number;
  /** The start of a condition (momentary kinds always are). */
  active: boolean;
  stateful: boolean;
  zone: number | undefined;
  zoneType: string | undefined;
  /** Where the condition is: device + zone (or source). */
  point: string;
}

export function viewOf(e: StoredEvent, registry: Registry): EventView {
  const zone = e.kind === 'zone_alarm' ? e.attrs.zone : undefined;
  const stateful = !MOMENTARY.has(e.kind);
  return {
    e,
    device: registry.get(e.deviceId),
    at: occurredAt(e),
    active: stateful ? e.active : true,
    stateful,
    zone,
    zoneType: e.kind === 'zone_alarm' ? e.attrs.zoneType : undefined,
    point: zone !== undefined ? `${e.deviceId}#${zone}` : e.source !== undefined ? `${e.deviceId}#${e.source}` : e.deviceId,
  };
}

export type Matcher = (v: EventView) => boolean;

/**
 * A filter compiled to one closure: only the checks the rule asked for, each
 * a Set lookup. `active` is checked by the caller (a restore matches the same
 * filter with the opposite state).
 */
export function compileFilter(f: FilterConfig): Matcher {
  const checks: Matcher[] = [];
  const set = <T>(list: readonly T[] | undefined) => (list ? new Set<T>(list) : undefined);
  const devices = set(f.devices);
  const deviceKinds = set<string>(f.deviceKinds);
  const grids = set(f.grids);
  const points = set<string>(f.points);
  const buildings = set(f.buildings);
  const zoneTypes = set(f.zoneTypes);
  const sensorTypes = set<string>(f.sensorTypes);
  if (devices) checks.push((v) => devices.has(v.e.deviceId));
  if (deviceKinds) checks.push((v) => v.device !== undefined && deviceKinds.has(v.device.kind));
  if (grids) checks.push((v) => v.e.grid !== null && grids.has(v.e.grid));
  if (points) checks.push((v) => v.device !== undefined && points.has(v.device.point));
  if (buildings) checks.push((v) => v.device?.building !== undefined && buildings.has(v.device.building));
  if (zoneTypes) checks.push((v) => v.zoneType === undefined || zoneTypes.has(v.zoneType as never));
  if (sensorTypes) checks.push((v) => v.device?.sensorType !== undefined && sensorTypes.has(v.device.sensorType));
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!;
  return (v) => {
    for (const c of checks) if (!c(v)) return false;
    return true;
  };
}
