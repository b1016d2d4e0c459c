import type { DeviceHealth } from './driver.ts';

/**
 * Device uptime (规范化运行率), one definition for the panel and the county.
 *
 * A device is in service while it is online and, where it has one, its event
 * channel is not lost (a camera that answers pings but sends no events
 * detects nothing). Time whose state is unknown (the box was off, the device
 * not looked at yet) counts neither way: the share is over observed time.
 */
export interface ServiceChange {
  at: number;
  /** In service from `at` on; null: unknown from `at` on. */
  inService: boolean | null;
}

export interface ServiceShare {
  upMs: number;
  downMs: number;
  /** upMs / (upMs + downMs); null when nothing was observed in the window. */
  ratio: number | null;
}

/** Whether a device state is in service: online, event channel not lost; null when online is unknown. */
export function inService(online: boolean | null, eventChannel: DeviceHealth['eventChannel']): boolean | null {
  return online === null ? null : online && eventChannel !== 'lost';
}

/** The share of observed time in service over [from, to), from the changes in time order (the state the window starts in first). */
export function serviceShare(changes: readonly ServiceChange[], from: number, to: number): ServiceShare {
  let upMs = 0;
  let downMs = 0;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    const start = Math.max(from, c.at);
    const end = Math.min(to, changes[i + 1]?.at ?? to);
    if (end <= start || c.inService === null) continue;
    if (c.inService) upMs += end - start;
    else downMs += end - start;
  }
  const seen = upMs + downMs;
  return { upMs, downMs, ratio: seen > 0 ? upMs / seen : null };
}
