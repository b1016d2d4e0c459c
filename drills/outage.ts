/**
 * outage: the county platform is down while a long backlog builds up
 * (1,000,000 entries in the full form; 30,000 quick), devices keep reporting
 * through it, then the county comes back. Everything must arrive: alarms
 * before the rest, no gap in the box's sequence, nothing lost, and the replay
 * held to the pace the installer configured so the county is not flooded.
 *
 * The backlog is written into the box's database before it starts (the way
 * days of outage would leave it); the gateway is a real child process pushing
 * over HTTP to the county simulator, which this drill starts late.
 */
import { join } from 'node:path';
import { Store } from '../gateway/store/store.ts';
import { Accounting, CountyReceiver } from '../simulators/county-platform/index.ts';
import { fillBacklog } from '../bench/_drain-backlog.ts';
import { storeOptions } from '../tests/helpers/store.ts';
import {
  access,
  check,
  connectAll,
  Device,
  doors,
  freePort,
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

const TOKEN = 'drill-county-token';
/** The replay ceiling the drill's installer configured: the drill checks the box keeps to it. */
const MAX_PACE = 20_000;

export const drill: Drill = {
  summary: 'county down for a long backlog (≥ 1,000,000 entries), then back: alarms first, no loss, no gap, paced replay',
  async run({ quick, say }) {
    const t = tempDir('shouwang-drill-outage-');
    // Every first receipt, by seq and lane: "alarms first" is judged on the backlog the county came back to.
    const receipts: { seq: number; lane: string; at: number }[] = [];
    const accounting = new Accounting({ onReceipt: (e, at) => receipts.push({ seq: e.seq, lane: e.lane, at }) });
    const county = new CountyReceiver({ tokens: [TOKEN], port: await freePort(), mode: 'down', accounting });
    try {
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      await county.start();
      const specs = [...doors(20), { id: 'panel-1', kind: 'alarm_panel' as const }];
      const site = writeSite(t.dir, {
        devices: specs,
        httpPort,
        mqttPort,
        extra: {
          upstream: {
            county: {
              url: county.url,
              auth: { type: 'bearer', token: TOKEN },
              batchSize: 1000,
              replayRatePerSecond: 2000,
              replayMaxRatePerSecond: MAX_PACE,
            },
          },
          storage: { budget: { maxDbMb: 4096, hardCapMb: 6144, minFreeMb: 64 } },
        },
      });
      const data = join(t.dir, 'data');

      // 1 the backlog days of outage leave behind, written while the box is off
      const entries = quick ? 30_000 : 1_000_000;
      say(`writing a backlog of ${entries.toLocaleString('en-US')} entries (1 in 20 an alarm)`);
      const store = await Store.open(
        storeOptions(data, { budget: { ...storeOptions(data).budget, maxDbBytes: 4096 * 2 ** 20, hardCapBytes: 6144 * 2 ** 20 } }),
      );
      const fill = await fillBacklog(store, entries, 20);
      await store.close();

      // 2 the box runs with the county still down; devices keep reporting
      const gw = await startGateway(site, data, httpPort);
      const url = `mqtt://127.0.0.1:${mqttPort}`;
      const devices = specs.map((s) => new Device(s.id, url));
      await connectAll(devices);
      await offer(devices, 500, quick ? 5 : 30, (d) => (d.id === 'panel-1' ? zoneAlarm : access));
      const settled = await settle(devices, 20_000);
      const backlog = await withDb(data, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))!.n);
      say(`backlog ${backlog.toLocaleString('en-US')} entries; the county comes back`);

      // 3 the county is back: watch the replay, second by second
      const backlogLastSeq = await withDb(data, async (db) => (await db.get<{ value: number }>(`SELECT value FROM meta WHERE key = 'seq.outbox'`))!.value);
      await county.setMode('healthy');
      const t0 = Date.now();
      const perSecond: number[] = [];
      let last = 0;
      const limit = Date.now() + (quick ? 120_000 : 1_800_000);
      for (;;) {
        await sleep(1000);
        const received = county.accounting.report().boxes[0]?.received ?? 0;
        perSecond.push(received - last);
        last = received;
        const left = await withDb(data, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))!.n);
        if (left === 0 || Date.now() > limit) break;
      }
      const drainMs = Date.now() - t0;
      await Promise.all(devices.map((d) => d.end()));
      const code = await gw.stop();
      const lastSeq = await withDb(data, async (db) => (await db.get<{ value: number }>(`SELECT value FROM meta WHERE key = 'seq.outbox'`))!.value);
      const left = await withDb(data, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))!.n);
      const b = county.accounting.report().boxes[0];
      if (!b) throw new Error('the county received nothing');
      // Entries made while the replay runs (a heartbeat, an alarm's late evidence) are live traffic, not backlog.
      // Judged by order of receipt (a batch can end with the last alarms and go on with the first records).
      const backlogReceipts = receipts.filter((r) => r.seq <= backlogLastSeq);
      const alarmLastAt = backlogReceipts.findLastIndex((r) => r.lane === 'alarm');
      const firstOtherAt = backlogReceipts.findIndex((r) => r.lane !== 'alarm');
      const alarmsFirst = alarmLastAt >= 0 && (firstOtherAt === -1 || alarmLastAt < firstOtherAt);
      // The first and last second are partial; the pace is judged on the full seconds between.
      const peak = Math.max(0, ...perSecond.slice(1, -1));
      const lost = lastSeq - left - (b.highestContiguousSeq ?? 0);
      return {
        figures: {
          backlog,
          fill_per_s: fill.perSecond,
          drain_seconds: round1(drainMs / 1000),
          drain_per_s: Math.round(b.received / (drainMs / 1000)),
          peak_per_s: peak,
          max_pace: MAX_PACE,
          received: b.received,
          duplicates_dropped: b.duplicates,
          gaps: b.gaps,
          lost,
        },
        checks: [
          check('every device publish during the outage was acknowledged', settled),
          check(
            'every alarm of the backlog arrived before its first record or status entry',
            alarmsFirst,
            `the last alarm is receipt ${alarmLastAt}, the first other entry ${firstOtherAt}`,
          ),
          check('no gap in the sequence the county received', b.gaps === 0, `${b.gaps}`),
          check('nothing lost: the county holds every seq the box enqueued', lost === 0 && (b.highestContiguousSeq ?? 0) >= backlog, `${lost}`),
          check(`the replay kept to the configured pace (≤ ${MAX_PACE}/s, 20 % slack)`, peak <= MAX_PACE * 1.2, `${peak}/s`),
          check('the gateway stopped cleanly', code === 0, `exit ${code}`),
        ],
      };
    } finally {
      await county.stop().catch(() => {});
      t.cleanup();
    }
  },
};
