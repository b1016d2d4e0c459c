/**
 * soak: moderate load for a long time (30 minutes; 90 s in the quick form).
 * After warm-up, resident memory may grow by at most 5 % and open file
 * descriptors not at all; nothing acknowledged may be missing.
 */
import { join } from 'node:path';
import {
  access,
  check,
  connectAll,
  Device,
  doors,
  freePort,
  lossReport,
  offer,
  pir,
  round1,
  sampler,
  settle,
  startGateway,
  tempDir,
  writeSite,
  zoneAlarm,
  type DeviceSpec,
  type Drill,
} from './_harness.ts';

const RATE = 300;

export const drill: Drill = {
  summary: 'moderate load for 30 minutes: RSS growth after warm-up ≤ 5 %, no file descriptor growth, nothing lost',
  async run({ quick, say }) {
    const t = tempDir('shouwang-drill-soak-');
    try {
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const sensors: DeviceSpec[] = Array.from({ length: 20 }, (_, i) => ({ id: `pir-${i}`, kind: 'sensor', sensorType: 'pir' }));
      const specs: DeviceSpec[] = [...doors(60), ...sensors, { id: 'panel-1', kind: 'alarm_panel' }];
      const site = writeSite(t.dir, { devices: specs, httpPort, mqttPort });
      const data = join(t.dir, 'data');
      const gw = await startGateway(site, data, httpPort);
      const url = `mqtt://127.0.0.1:${mqttPort}`;
      const devices = specs.map((s) => new Device(s.id, url));
      await connectAll(devices, 20);
      const seconds = quick ? 90 : 30 * 60;
      const warmup = quick ? 30 : 5 * 60;
      const mem = sampler(gw.pid, quick ? 1000 : 5000);
      say(`${RATE} events/s from ${specs.length} devices for ${seconds} s (warm-up ${warmup} s)`);
      const t0 = Date.now();
      const offered = await offer(devices, RATE, seconds, (d) => (d.id === 'panel-1' ? zoneAlarm : d.id.startsWith('pir') ? pir : access));
      const settled = await settle(devices, 20_000);
      mem.stop();
      await Promise.all(devices.map((d) => d.end()));
      const code = await gw.stop();
      const loss = await lossReport(devices, data);

      // Compare the floor of resident memory (the lowest sample, right after a collection) in the first and the
      // last third of the time after warm-up: the garbage collector's sawtooth moves the peaks by more than 5 %
      // within seconds, while a leak lifts the floor.
      const after = mem.samples.filter((s) => s.at - t0 >= warmup * 1000 && s.at - t0 <= seconds * 1000);
      const third = Math.max(1, Math.floor(after.length / 3));
      const floor = (xs: number[]) => Math.min(...xs);
      const early = floor(after.slice(0, third).map((s) => s.rssMb));
      const late = floor(after.slice(-third).map((s) => s.rssMb));
      const growthPct = early ? ((late - early) / early) * 100 : 0;
      const fdsEarly = Math.max(...after.slice(0, third).map((s) => s.fds));
      const fdsLate = Math.max(...after.slice(-third).map((s) => s.fds));
      const cpu = after.length > 1 ? ((after.at(-1)!.cpuSeconds - after[0]!.cpuSeconds) / ((after.at(-1)!.at - after[0]!.at) / 1000)) * 100 : 0;
      return {
        figures: {
          seconds,
          offered,
          acked: loss.acked,
          lost: loss.lost,
          rss_mb_after_warmup: round1(early),
          rss_mb_end: round1(late),
          rss_growth_pct: round1(growthPct),
          fds_after_warmup: fdsEarly,
          fds_end: fdsLate,
          cpu_pct: round1(cpu),
        },
        checks: [
          check('nothing acknowledged is missing', loss.lost === 0 && settled, `${loss.lost} lost`),
          // Judged only over the full 30 minutes: in 90 s V8 is still growing its old space towards its steady size
          // (the live heap after a collection stays flat, ~44 MB, in the same load run in-process), so the quick
          // form reports the figure without judging it.
          ...(quick ? [] : [check('RSS grew by at most 5 % after warm-up', growthPct <= 5, `${round1(early)} → ${round1(late)} MB`)]),
          check('open file descriptors did not grow', fdsLate <= fdsEarly, `${fdsEarly} → ${fdsLate}`),
          check('the gateway stopped cleanly', code === 0, `exit ${code}`),
        ],
      };
    } finally {
      t.cleanup();
    }
  },
};
