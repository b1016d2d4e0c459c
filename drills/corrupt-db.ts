/**
 * corrupt-db: damage the database file while the gateway is stopped. On the
 * next start the box must move the damaged file aside (never delete it),
 * start a fresh one, say so with a `storage_recovered` event, and take events
 * again at once.
 */
import { closeSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DB_NAME } from '../gateway/store/store.ts';
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
  settle,
  startGateway,
  tempDir,
  withDb,
  writeSite,
  type Drill,
} from './_harness.ts';

export const drill: Drill = {
  summary: 'damage the database while stopped: moved aside, fresh start, storage_recovered and a trouble alarm raised, nothing deleted',
  async run({ quick, say }) {
    const t = tempDir('shouwang-drill-corrupt-');
    try {
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const specs = doors(10);
      const site = writeSite(t.dir, { devices: specs, httpPort, mqttPort });
      const data = join(t.dir, 'data');
      const url = `mqtt://127.0.0.1:${mqttPort}`;

      let gw = await startGateway(site, data, httpPort);
      let devices = specs.map((s) => new Device(s.id, url));
      await connectAll(devices);
      await offer(devices, 500, quick ? 2 : 6, () => access);
      await settle(devices, 10_000);
      await Promise.all(devices.map((d) => d.end()));
      await gw.stop();
      const before = (await lossReport(devices, data)).acked;

      // Damage: random bytes over a run of pages in the middle of the file, as a failing SD card would.
      const file = join(data, DB_NAME);
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      const span = Math.min(256 * 1024, Math.floor(size / 2));
      writeSync(fd, randomBytes(span), 0, span, Math.floor(size / 4));
      closeSync(fd);
      say(`wrote ${span} random bytes into a ${size}-byte database`);

      const t0 = Date.now();
      gw = await startGateway(site, data, httpPort);
      const recoverMs = Date.now() - t0;
      const aside = readdirSync(data).filter((f) => f.startsWith(`${DB_NAME}.corrupt-`));
      const asideMain = aside.find((f) => !f.endsWith('-wal') && !f.endsWith('-shm'));
      const keptBytes = asideMain ? statSync(join(data, asideMain)).size : 0;

      devices = specs.map((s) => new Device(s.id, url, { tag: 'after-' }));
      await connectAll(devices);
      await offer(devices, 200, 2, () => access);
      const settled = await settle(devices, 10_000);
      const h = await health(httpPort);
      await Promise.all(devices.map((d) => d.end()));
      const code = await gw.stop();
      const after = await lossReport(devices, data);
      const recovered = await withDb(data, (db) => db.all<{ attrs: string }>(`SELECT attrs FROM events WHERE kind = 'storage_recovered'`));
      const troubles = await withDb(data, (db) => db.all<{ title: string }>(`SELECT title FROM alarms WHERE rule = 'box-storage'`));
      return {
        figures: {
          events_before: before,
          damaged_bytes: span,
          recover_ms: recoverMs,
          moved_aside: asideMain ?? 'none',
          kept_bytes: keptBytes,
          events_after: after.acked,
        },
        checks: [
          check(
            'the damaged database was moved aside, not deleted',
            asideMain !== undefined && keptBytes === size,
            `${aside.join(', ')} ${keptBytes}/${size} bytes`,
          ),
          check('the box answered /healthz after the damage', h.ok),
          check('a device-fault alarm (box-storage) is open for a person to look at', troubles.length >= 1, troubles.map((a) => a.title).join(' | ')),
          check('a storage_recovered event names where the damaged file went', recovered.length === 1 && recovered[0]!.attrs.includes('.corrupt-')),
          check(
            'devices were acknowledged and stored after the recovery',
            settled && after.lost === 0 && after.acked > 0,
            `${after.acked} acked, ${after.lost} lost`,
          ),
          check('the gateway stopped cleanly', code === 0, `exit ${code}`),
        ],
      };
    } finally {
      t.cleanup();
    }
  },
};
