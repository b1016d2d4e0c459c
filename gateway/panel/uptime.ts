import type { HealthEvent } from '../store/panel-queries.ts';

/**
 * Device uptime over a window from its offline and event-channel events
 * (规范化运行率): a device is down while it is offline or its event channel is
 * lost. `events` holds the window's changes, after the few that precede it
 * (which set the state the window starts in), in time order.
 */
export function uptime(events: readonly HealthEvent[], from: number, to: number): { upMs: number; downMs: number; ratio: number } {
  let offline = false;
  let lost = false;
  let downMs = 0;
  let t = from;
  for (const e of events) {
    const at = Math.min(Math.max(e.at, from), to);
    if (at > t && (offline || lost)) downMs += at - t;
    t = Math.max(t, at);
    if (e.kind === 'device_offline') offline = e.active;
    else lost = e.active;
  }
  if (to > t && (offline || lost)) downMs += to - t;
  const total = Math.max(1, to - from);
  return { upMs: total - downMs, downMs, ratio: (total - downMs) / total };
}
