/**
 * disk-full: the data folder on a small filesystem of fixed size (a tmpfs the
 * drill mounts; needs root) while devices flood the box. Alarms are kept,
 * status then records are shed and every shed row counted, the loss is
 * reported (a storage_loss event and a box.loss entry for the county), and
 * the box stays up.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
  offer,
  pir,
  round1,
  sampler,
  settle,
  startGateway,
  tempDir,
  withDb,
  writeSite,
  zoneAlarm,
  type DeviceSpec,
  type Drill,
  type DrillResult,
} from './_harness.ts';

const FS_MB = 40;

export const drill: Drill = {
  summary: 'data folder on a full filesystem: alarms kept, lower lanes shed and counted, loss reported, box up',
  async run({ quick, say }): Promise<DrillResult> {
    const t = tempDir('shouwang-drill-diskfull-');
    const mnt = join(t.dir, 'fs');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_MB}m`, 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      t.cleanup();
      return { figures: {}, checks: [check(`mount a ${FS_MB} MB tmpfs (needs root)`, false, String(err).slice(0, 200))] };
    }
    try {
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const sensors: DeviceSpec[] = Array.from({ length: 10 }, (_, i) => ({ id: `pir-${i}`, kind: 'sensor', sensorType: 'pir' }));
      const specs: DeviceSpec[] = [...doors(20), ...sensors, { id: 'panel-1', kind: 'alarm_panel' }];
      const site = writeSite(t.dir, {
        devices: specs,
        httpPort,
        mqttPort,
        extra: { storage: { budget: { maxDbMb: 16, hardCapMb: 28, minFreeMb: 4 } } },
      });
      const data = join(mnt, 'data');
      const gw = await startGateway(site, data, httpPort);
      const mem = sampler(gw.pid, 500);
      const url = `mqtt://127.0.0.1:${mqttPort}`;
      const devices = specs.map((s) => new Device(s.id, url));
      await connectAll(devices);
      let healthy = true;
      let maxStage = 0;
      const watch = setInterval(
        () =>
          void health(httpPort).then((h) => {
            healthy &&= h.ok;
            const stage = (h.body as { store?: { budgetStage?: number } }).store?.budgetStage ?? 0;
            maxStage = Math.max(maxStage, stage);
          }),
        500,
      );
      const seconds = quick ? 35 : 120;
      say(`flooding ${specs.length} devices at 2,000 events/s for ${seconds} s into a ${FS_MB} MB filesystem`);
      const offered = await offer(devices, 2000, seconds, (d) => (d.id === 'panel-1' ? zoneAlarm : d.id.startsWith('pir') ? pir : access));
      const settled = await settle(devices, 30_000);
      clearInterval(watch);
      mem.stop();
      await Promise.all(devices.map((d) => d.end()));
      const code = await gw.stop();

      const panel = devices.filter((d) => d.id === 'panel-1');
      const alarms = await lossReport(panel, data);
      const all = await lossReport(devices, data);
      const { loss, lossEvents, lossEnvelopes } = await withDb(data, async (db) => ({
        loss: await db.all<{ lane: number; cause: string; count: number }>('SELECT lane, cause, SUM(count) AS count FROM loss GROUP BY lane, cause'),
        lossEvents: (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE kind = 'storage_loss'`))!.n,
        lossEnvelopes: (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE type = 'box.loss'`))!.n,
      }));
      const shed = (lane: number) => loss.filter((l) => l.lane === lane).reduce((n, l) => n + l.count, 0);
      const [alarmShed, recordShed, statusShed] = [shed(0), shed(1), shed(2)];
      return {
        figures: {
          offered,
          acked: all.acked,
          stored_of_acked: all.acked - all.lost,
          alarms_acked: alarms.acked,
          alarms_lost: alarms.lost,
          status_shed: statusShed,
          record_shed: recordShed,
          alarm_shed: alarmShed,
          max_stage: maxStage,
          loss_reports: lossEvents,
          peak_rss_mb: round1(mem.peakRssMb()),
        },
        checks: [
          check('the box stayed up and answered /healthz throughout', healthy),
          check('the budget reached shedding', maxStage >= 1, `stage ${maxStage}`),
          check('every acknowledged alarm is stored', alarms.lost === 0 && alarms.acked > 0, `${alarms.acked} acked, ${alarms.lost} lost`),
          check('status was shed and counted', statusShed > 0, `${statusShed}`),
          check('no alarm was shed or evicted', alarmShed === 0, `${alarmShed}`),
          check(
            'the loss was reported: storage_loss events and box.loss for the county',
            lossEvents > 0 && lossEnvelopes > 0,
            `${lossEvents} / ${lossEnvelopes}`,
          ),
          check('every publish was answered', settled),
          check('the gateway stopped cleanly', code === 0, `exit ${code}`),
        ],
      };
    } finally {
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
      t.cleanup();
    }
  },
};
