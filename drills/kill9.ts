/**
 * kill9: kill -9 the gateway while devices stream QoS 1 events, restart it,
 * again and again. Nothing a device saw acknowledged may be missing, nothing
 * stored twice, and the box's event sequence has no gap.
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
  round1,
  settle,
  sleep,
  startGateway,
  tempDir,
  withDb,
  writeSite,
  zoneAlarm,
  type Drill,
} from './_harness.ts';

export const drill: Drill = {
  summary: 'kill -9 the gateway under load and restart it: nothing acknowledged is lost, no sequence gap',
  async run({ quick, say }) {
    const t = tempDir('shouwang-drill-kill9-');
    try {
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const specs = [...doors(quick ? 20 : 100), { id: 'panel-1', kind: 'alarm_panel' as const }];
      const site = writeSite(t.dir, { devices: specs, httpPort, mqttPort });
      const data = join(t.dir, 'data');
      let gw = await startGateway(site, data, httpPort);
      const devices = specs.map((s) => new Device(s.id, `mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 200 }));
      await connectAll(devices, 50);
      const rounds = quick ? 2 : 5;
      const rate = quick ? 1000 : 2000;
      const restartMs: number[] = [];
      const load = offer(devices, rate, quick ? 6 * rounds : 10 * rounds, (d) => (d.id === 'panel-1' ? zoneAlarm : access));
      for (let r = 0; r < rounds; r++) {
        await sleep((quick ? 2000 : 4000) + Math.random() * 2000);
        say(`round ${r + 1}/${rounds}: kill -9 with ${devices.reduce((n, d) => n + d.acked.size, 0)} acknowledged so far`);
        await gw.kill9();
        const t0 = Date.now();
        gw = await startGateway(site, data, httpPort);
        restartMs.push(Date.now() - t0);
      }
      const offered = await load;
      const settled = await settle(devices, 30_000);
      await Promise.all(devices.map((d) => d.end()));
      const code = await gw.stop();
      const loss = await lossReport(devices, data);
      const seq = await withDb(data, (db) => db.get<{ n: number; lo: number; hi: number }>('SELECT COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM events'));
      const gaps = seq ? seq.hi - seq.lo + 1 - seq.n : -1;
      return {
        figures: {
          rounds,
          offered,
          acked: loss.acked,
          lost: loss.lost,
          duplicated: loss.duplicated,
          seq_gaps: gaps,
          restart_ms_max: Math.max(...restartMs),
          restart_ms_mean: round1(restartMs.reduce((a, b) => a + b, 0) / restartMs.length),
        },
        checks: [
          check('every event a device saw acknowledged is stored', loss.lost === 0, loss.firstLost.join(', ')),
          check('no event is stored twice', loss.duplicated === 0),
          check('the event sequence has no gap', gaps === 0, `${gaps}`),
          check('in-flight events were acknowledged after the last restart', settled),
          check('the gateway stopped cleanly at the end', code === 0, `exit ${code}`),
          check('enough events went through to mean something', loss.acked >= (quick ? 2000 : 20000), `${loss.acked}`),
        ],
      };
    } finally {
      t.cleanup();
    }
  },
};
