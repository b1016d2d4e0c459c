import { serviceShare, type ServiceChange, type ServiceShare } from '../core/uptime.ts';
import type { HealthEvent } from '../store/panel-queries.ts';

/**
 * A device's uptime over a window (core/uptime.ts) from its stored offline and
 * event-channel events. `events` holds the window's changes, after the few that
 * precede it (which set the state the window starts in), in time order. These
 * events record trouble only: a device with none on record was in service.
 */
export function uptime(events: readonly HealthEvent[], from: number, to: number): ServiceShare & { ratio: number } {
  let offline = false;
  let lost = false;
  const changes: ServiceChange[] = [{ at: -Infinity, inService: true }];
  for (const e of events) {
    if (e.kind === 'device_offline') offline = e.active;
    else lost = e.active;
    changes.push({ at: e.at, inService: !offline && !lost });
  }
  const share = serviceShare(changes, from, to);
  return { ...share, ratio: share.ratio ?? 1 };
}
