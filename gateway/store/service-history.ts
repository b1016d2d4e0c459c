import type { DeviceHealth } from '../core/driver.ts';
import { inService, type ServiceChange } from '../core/uptime.ts';
import type { Db } from './db.ts';

/**
 * Each device's in-service changes (core/uptime.ts) since `since`, from the
 * status transitions the device-status component records on every box: the
 * last one before `since` first (the state a window starts in), then the
 * rest in time order. The panel's uptime and the county's are both computed
 * from this, so they cannot disagree.
 */
export async function serviceChanges(reader: Db, since: number, deviceIds?: readonly string[]): Promise<Map<string, ServiceChange[]>> {
  const only = deviceIds ? ` AND device_id IN (${deviceIds.map(() => '?').join(',')})` : '';
  const ids = deviceIds ?? [];
  const rows = await reader.all<{ device_id: string; at: number; online: number | null; event_channel: DeviceHealth['eventChannel'] }>(
    `SELECT device_id, at, online, event_channel FROM device_transitions WHERE at >= ?${only}
     UNION ALL
     SELECT device_id, at, online, event_channel FROM device_transitions
       WHERE seq IN (SELECT MAX(seq) FROM device_transitions WHERE at < ?${only} GROUP BY device_id)
     ORDER BY device_id, at`,
    [since, ...ids, since, ...ids],
  );
  const per = new Map<string, ServiceChange[]>();
  for (const r of rows) {
    let l = per.get(r.device_id);
    if (!l) per.set(r.device_id, (l = []));
    l.push({ at: r.at, inService: inService(r.online === null ? null : r.online === 1, r.event_channel) });
  }
  return per;
}
