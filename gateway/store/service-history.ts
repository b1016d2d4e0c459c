import type { DeviceHealth } from '../core/driver.ts';
import { inService, type ServiceChange } from '../core/uptime.ts';
import type { Db } from './db.ts';

/**
 * Each device's in-service changes (core/uptime.ts) since `since`, from the
 * status transitions the device-status component records on every box: the
 * last one before `since` first (the state a window starts in), then the
 * rest in time order. The panel's uptime and the county's are both computed
 * from this, so they cannot disagree. Per device two index seeks on
 * (device_id, at), however long the table's history.
 */
export async function serviceChanges(reader: Db, since: number, deviceIds: readonly string[]): Promise<Map<string, ServiceChange[]>> {
  const per = new Map<string, ServiceChange[]>();
  if (deviceIds.length === 0) return per;
  const rows = await reader.all<{ device_id: string; at: number; online: number | null; event_channel: DeviceHealth['eventChannel'] }>(
    `WITH ids(id) AS (SELECT value FROM json_each(?))
     SELECT t.device_id, t.at, t.online, t.event_channel, t.seq FROM ids JOIN device_transitions t ON t.device_id = ids.id AND t.at >= ?
     UNION ALL
     SELECT t.device_id, t.at, t.online, t.event_channel, t.seq FROM ids JOIN device_transitions t
       ON t.seq = (SELECT seq FROM device_transitions WHERE device_id = ids.id AND at < ? ORDER BY at DESC, seq DESC LIMIT 1)
     ORDER BY 1, 2, 5`,
    [JSON.stringify(deviceIds), since, since],
  );
  for (const r of rows) {
    let l = per.get(r.device_id);
    if (!l) per.set(r.device_id, (l = []));
    l.push({ at: r.at, inService: inService(r.online === null ? null : r.online === 1, r.event_channel) });
  }
  return per;
}
