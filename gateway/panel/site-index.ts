import type { DeviceConfig, SiteConfig } from '../../config/schema.ts';
import type { Alarm } from '../core/alarm.ts';
import { CLOSED_STATUSES } from '../core/alarm.ts';

/** Look-ups over the site config in force: device by id, grid names, linked cameras. */
export class SiteIndex {
  readonly devices: Map<string, DeviceConfig>;
  readonly grids: Map<string, string>;

  constructor(readonly config: SiteConfig) {
    this.devices = new Map(config.devices.map((d) => [d.id, d]));
    this.grids = new Map(config.grids.map((g) => [g.code, g.name]));
  }

  deviceName(id: string | null): string | null {
    if (id === null) return null;
    if (id === '_box') return '网关';
    return this.devices.get(id)?.name ?? id;
  }

  /** Cameras linked to a device, and to the panel zones named by `zones`. */
  linkedCameras(deviceId: string | null, zones: readonly number[] = []): { id: string; name: string }[] {
    const d = deviceId ? this.devices.get(deviceId) : undefined;
    if (!d) return [];
    const ids = new Set<string>(d.linkedCameras);
    if (d.kind === 'onvif_camera') ids.add(d.id);
    if (d.kind === 'alarm_panel') for (const z of d.zones) if (zones.includes(z.number)) for (const c of z.linkedCameras) ids.add(c);
    return [...ids].map((id) => ({ id, name: this.devices.get(id)?.name ?? id }));
  }
}

/** Whether an alarm is past a deadline now (受理时限 while new, 办结时限 until closed), or was marked overdue. */
export function isOverdue(a: Pick<Alarm, 'status' | 'acceptBy' | 'closeBy' | 'overdue'>, now: number): boolean {
  if (CLOSED_STATUSES.includes(a.status)) return a.overdue;
  if (a.overdue) return true;
  if (a.status === 'new' && a.acceptBy !== null && now > a.acceptBy) return true;
  return a.closeBy !== null && now > a.closeBy;
}
