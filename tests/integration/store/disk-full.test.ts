import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../../gateway/core/events.ts';
import { Metrics } from '../../../gateway/metrics.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { openStore, sampleEvent, storeOptions, tempDir } from '../../helpers/store.ts';

/** A real small filesystem: a tmpfs of fixed size that this test mounts (needs root, as in CI). */
const t = tempDir('shouwang-diskfull-');
const mnt = join(t.dir, 'fs');
mkdirSync(mnt);
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt], { stdio: 'ignore' });
  mounted = true;
} catch {
  mounted = false;
}
let store: Store | null = null;
afterAll(async () => {
  await store?.close().catch(() => {});
  if (mounted) execFileSync('umount', ['-l', mnt]);
  t.cleanup();
});

const MB = 1024 * 1024;

describe('a full disk', () => {
  it.skipIf(!mounted)(
    'sheds status, then records, never loses an alarm to its own traffic, and when something else fills the disk fails loudly and recovers room',
    async () => {
      store = await openStore(mnt, {
        budget: { ...storeOptions(mnt).budget, maxDbBytes: 1024 * MB, hardCapBytes: 2048 * MB, minFreeBytes: 8 * MB },
      });
      const metrics = new Metrics();
      metrics.attach(store);
      const firstShed: Partial<Record<Lane, number>> = {};
      let alarmsTried = 0;
      let alarmsStored = 0;
      const failures: unknown[] = [];
      let maxStage = 0;
      const big = 'r'.repeat(900);
      // Phase 1: the box's own traffic, three times what the 24 MB filesystem holds.
      for (let i = 0; i < 1200; i++) {
        const s = store;
        const usage = await s.budget.enforce();
        maxStage = Math.max(maxStage, usage.stage);
        const batch = await Promise.allSettled(
          Array.from({ length: 60 }, (_, j) => {
            const kind = (['motion', 'access_granted', 'zone_alarm'] as const)[j % 3]!;
            if (kind === 'zone_alarm') alarmsTried++;
            return s.events.append({ ...sampleEvent(kind, `dev-${j}`), raw: big }).then((r) => ({ kind, r }));
          }),
        );
        for (const b of batch) {
          if (b.status === 'rejected') {
            failures.push(b.reason);
            continue;
          }
          const { kind, r } = b.value;
          const lane: Lane = kind === 'motion' ? 'status' : kind === 'access_granted' ? 'record' : 'alarm';
          if (!r.stored) firstShed[lane] ??= i;
          else if (lane === 'alarm') alarmsStored++;
        }
      }
      expect(failures).toEqual([]);
      expect(maxStage).toBe(3);
      // Status went first, records after; every alarm was stored.
      expect(firstShed.status).toBeDefined();
      expect(firstShed.record).toBeDefined();
      expect(firstShed.status!).toBeLessThanOrEqual(firstShed.record!);
      expect(firstShed.alarm).toBeUndefined();
      expect(alarmsStored).toBe(alarmsTried);

      // What was given up is counted in the store and visible in /metrics.
      const totals = await store.budget.totals();
      expect(
        totals
          .filter((r) => r.cause === 'shed')
          .map((r) => r.lane)
          .sort(),
      ).toEqual(['record', 'status']);
      const text = await metrics.registry.getSingleMetricAsString('shouwang_store_loss_rows');
      expect(text).toMatch(/lane="status",cause="shed"/);
      expect(text).toMatch(/lane="record",cause="shed"/);

      // Phase 2: another program fills the disk to the last byte.
      const filler = join(mnt, 'someone-elses-file');
      const fd = openSync(filler, 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(64 * 1024));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }
      let loud: unknown = null;
      for (let i = 0; i < 200 && !loud; i++) {
        await Promise.all(Array.from({ length: 50 }, () => store!.events.append({ ...sampleEvent('zone_alarm', 'panel-1'), raw: big }))).catch(
          (err) => (loud = err),
        );
      }
      expect(String(loud)).toMatch(/SQLITE_FULL/); // refused loudly: an MQTT device is not acked and resends
      // The budget gives up its ballast and evicts the oldest rows: alarms fit again.
      expect((await store.budget.enforce()).stage).toBe(3);
      expect(await store.events.append(sampleEvent('sos', 'sos-1'))).toMatchObject({ stored: true });
      expect((await store.events.read({ kinds: ['zone_alarm'], limit: 5 })).length).toBe(5);
    },
    180_000,
  );
});
