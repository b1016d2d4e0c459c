import type { CameraFarm } from './farm.ts';
import type { SimTimer } from './types.ts';

/**
 * Background event traffic. 'motion': every camera raises motion every
 * `periodMs` and clears it `activeMs` later, phases spread evenly (the load
 * of the benchmark). 'demo': now and then — a camera sees motion every few
 * minutes, perimeter cameras report a line crossing now and then.
 */
export type CameraTraffic = 'none' | 'demo' | { periodMs: number; activeMs: number };

export const MIN_PERIOD_MS = 1000;

export function startTraffic(farm: CameraFarm, traffic: CameraTraffic, random: () => number = Math.random): { stop(): void } {
  const timers = new Set<SimTimer>();
  let stopped = false;
  const at = (ms: number, fn: () => void) => {
    const t = farm.clock.setTimer(ms, () => {
      timers.delete(t);
      if (!stopped) fn();
    });
    timers.add(t);
  };
  const cams = farm.cameras;
  if (traffic === 'none') return { stop() {} };
  if (traffic === 'demo') {
    cams.forEach((cam) => {
      const loop = () => {
        const perimeter = /perim|wall|fence/.test(cam.id);
        if (perimeter && random() < 0.2) cam.emit({ type: 'line' });
        else {
          cam.emit({ type: 'motion', active: true });
          at(3000 + random() * 5000, () => cam.emit({ type: 'motion', active: false }));
        }
        at(120_000 + random() * 240_000, loop);
      };
      at(5000 + random() * 60_000, loop);
    });
  } else {
    const period = Math.max(MIN_PERIOD_MS, traffic.periodMs);
    const active = Math.min(traffic.activeMs, period - 100);
    cams.forEach((cam, i) => {
      const loop = () => {
        cam.emit({ type: 'motion', active: true });
        at(active, () => cam.emit({ type: 'motion', active: false }));
        at(period, loop);
      };
      at(Math.round((period * i) / cams.length), loop);
    });
  }
  return {
    stop() {
      stopped = true;
      for (const t of timers) t.cancel();
      timers.clear();
    },
  };
}
