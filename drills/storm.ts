/**
 * storm: every device of a large estate reconnects at the same moment (the
 * power comes back, a switch reboots). The broker must hold, memory stay
 * bounded, and no event a device saw acknowledged go missing.
 */
import { join } from 'node:path';
import {
  access,
  check,
  connectAll,
  Device,
  doors,
  freePort,
  health,
  lossReport,
  round1,
  sampler,
  settle,
  sleep,
  startGateway,
  storedEventIds,
  tempDir,
  writeSite,
  type Drill,
} from './_harness.ts';

/** Memory the gateway may use at the peak of the storm. */
const RSS_LIMIT_MB = 512;

export const drill: Drill = {
  summary: '1,000 devices reconnecting at once: the broker holds, memory bounded, no event lost',
  async run({ quick, say }) {
    const t = tempDir('shouwang-drill-storm-');
    try {
      const n = quick ? 300 : 1000;
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const specs = doors(n);
      const site = writeSite(t.dir, { devices: specs, httpPort, mqttPort });
      const data = join(t.dir, 'data');
      const gw = await startGateway(site, data, httpPort);
      const mem = sampler(gw.pid, 200);
      const url = `mqtt://127.0.0.1:${mqttPort}`;
      const rounds = quick ? 2 : 3;
      const connectMs: number[] = [];
      let devices: Device[] = [];
      let healthy = true;
      for (let r = 0; r < rounds; r++) {
        // Everyone at once: no pacing on the device side.
        devices = specs.map((s) => new Device(s.id, url, { reconnectPeriod: 1000 + Math.floor(Math.random() * 1000), tag: `r${r}-` }));
        const t0 = Date.now();
        await connectAll(devices);
        connectMs.push(Date.now() - t0);
        say(`round ${r + 1}/${rounds}: ${n} devices connected in ${connectMs.at(-1)} ms`);
        for (const d of devices) for (let i = 0; i < 3; i++) d.publish(access);
        healthy &&= (await health(httpPort)).ok;
        await settle(devices, 30_000);
        // The power blip: every socket dies at once, without DISCONNECT.
        for (const d of devices) d.client!.stream.destroy();
        await sleep(500);
        for (const d of devices) d.client!.end(true);
        await lossReport(devices, data).then((l) => {
          if (l.lost) say(`round ${r + 1}: ${l.lost} acknowledged events missing`);
        });
      }
      // The last round's devices stay connected and publish once more.
      devices = specs.map((s) => new Device(s.id, url, { tag: 'last-' }));
      await connectAll(devices);
      for (const d of devices) d.publish(access);
      const settled = await settle(devices, 30_000);
      await sleep(1000);
      mem.stop();
      const loss = await lossReport(devices, data);
      await Promise.all(devices.map((d) => d.end()));
      const code = await gw.stop();
      const peak = mem.peakRssMb();
      const stored = await storedEventIds(data);
      const expected = n * (rounds * 3 + 1);
      return {
        figures: {
          devices: n,
          rounds,
          connect_ms_max: Math.max(...connectMs),
          stored_events: stored.size,
          expected_events: expected,
          peak_rss_mb: round1(peak),
        },
        checks: [
          check('every device got connected in every round', connectMs.length === rounds),
          check('the box answered /healthz during the storm', healthy),
          check('every publish was acknowledged', settled),
          check('every acknowledged event is stored, once', loss.lost === 0 && stored.size === expected, `${stored.size}/${expected}`),
          check(`peak RSS stayed under ${RSS_LIMIT_MB} MB`, peak < RSS_LIMIT_MB, `${round1(peak)} MB`),
          check('the gateway stopped cleanly', code === 0, `exit ${code}`),
        ],
      };
    } finally {
      t.cleanup();
    }
  },
};
