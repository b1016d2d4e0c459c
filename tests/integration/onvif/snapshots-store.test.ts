import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { SnapshotStore, type SnapshotBudget } from '../../../gateway/store/snapshots.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { snapshotJpeg } from '../../../simulators/onvif-camera/index.ts';
import { openStore, silentLog, tempDir } from '../../helpers/store.ts';

const DAY = 86_400_000;

describe('snapshot files beside the database', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  async function setup(budget: SnapshotBudget, clock = new FakeClock()): Promise<{ store: Store; snaps: SnapshotStore; dir: string; clock: FakeClock }> {
    const t = tempDir('shouwang-snap-');
    const store = await openStore(t.dir, {}, clock);
    const snaps = await SnapshotStore.open({ writer: store.writer, dbFile: store.file, dir: join(t.dir, 'snapshots'), clock, log: silentLog, budget });
    await snaps.start();
    cleanups.push(
      t.cleanup,
      () => store.close(),
      () => snaps.stop(),
    );
    return { store, snaps, dir: t.dir, clock };
  }

  const picture = (n: number, size = 0) => Buffer.concat([snapshotJpeg(`cam-1 #${n}`), Buffer.alloc(size)]);

  it('stores the picture as a file beside the database, referenced by id, never inside it', async () => {
    const { snaps, dir, clock, store } = await setup({ maxBytes: 10 * 1024 * 1024, maxAgeMs: 30 * DAY });
    const bytes = picture(1, 50_000);
    const ref = await snaps.save({
      deviceId: 'cam-1',
      bytes,
      contentType: 'image/jpeg',
      takenAt: clock.now(),
      reason: '值班员抓拍',
      commandId: 'cmd-1',
      alarmId: null,
    });
    expect(ref).toEqual({ id: expect.any(String), deviceId: 'cam-1', takenAt: clock.now(), bytes: bytes.length, contentType: 'image/jpeg' });
    const rec = (await snaps.get(ref.id))!;
    expect(rec.path).toBe(join(dir, 'snapshots', '20261121', `${ref.id}.jpg`));
    expect(readFileSync(rec.path).equals(bytes)).toBe(true);
    expect((await snaps.read(ref.id))!.bytes.equals(bytes)).toBe(true);
    expect(rec).toMatchObject({ reason: '值班员抓拍', commandId: 'cmd-1', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await snaps.forCommand('cmd-1')).map((r) => r.id)).toEqual([ref.id]);
    await store.writer.flush();
    const db = readFileSync(store.file);
    expect(db.includes(bytes.subarray(0, 64))).toBe(false); // not a blob in the database
    expect(statSync(store.file).size).toBeLessThan(bytes.length);
    expect(await snaps.get('nope')).toBeNull();
  });

  it('keeps within the size budget: the oldest go first, pictures linked to an alarm last', async () => {
    const size = 100_000;
    const { snaps, clock } = await setup({ maxBytes: 5 * size, maxAgeMs: 30 * DAY });
    const refs = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(1000);
      refs.push(
        await snaps.save({
          deviceId: 'cam-1',
          bytes: picture(i, size - 1030),
          contentType: 'image/jpeg',
          takenAt: clock.now(),
          reason: 'r',
          alarmId: i === 0 ? 'alarm-1' : null,
        }),
      );
    }
    const u = snaps.usage();
    expect(u.bytes).toBeLessThanOrEqual(5 * size);
    const left = (await snaps.list()).map((r) => r.id);
    expect(left).toContain(refs[0]!.id); // alarm evidence kept although oldest
    expect(left).toContain(refs[7]!.id);
    expect(left).not.toContain(refs[1]!.id);
    expect(existsSync((await snaps.get(refs[0]!.id))!.path)).toBe(true);
    expect(snaps.evicted.size).toBeGreaterThan(0);
    const files = readdirSync(dirname((await snaps.get(refs[7]!.id))!.path));
    expect(files).toHaveLength(left.length); // evicted files are gone too
  });

  it('removes pictures older than the age limit on its timer, even when nothing new is taken', async () => {
    const { snaps, clock } = await setup({ maxBytes: 10 * 1024 * 1024, maxAgeMs: 2 * DAY });
    const ref = await snaps.save({ deviceId: 'cam-1', bytes: picture(1), contentType: 'image/jpeg', takenAt: clock.now(), reason: 'r' });
    const path = (await snaps.get(ref.id))!.path;
    const hours = async (n: number) => {
      for (let h = 0; h < n; h++) {
        clock.advance(3600_000); // the hourly check
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await hours(47);
    expect(await snaps.get(ref.id)).not.toBeNull();
    await hours(2);
    for (let i = 0; i < 100 && ((await snaps.get(ref.id)) !== null || existsSync(path)); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await snaps.get(ref.id)).toBeNull();
    expect(existsSync(path)).toBe(false);
    expect(snaps.evicted.age).toBe(1);
  });

  it('refuses empty or oversized pictures, and at start removes files an interrupted save left without a record', async () => {
    const t = tempDir('shouwang-snap-');
    cleanups.push(t.cleanup);
    const clock = new FakeClock();
    const store = await openStore(t.dir, {}, clock);
    cleanups.push(() => store.close());
    const dir = join(t.dir, 'snapshots');
    const opts = { writer: store.writer, dbFile: store.file, dir, clock, log: silentLog, budget: { maxBytes: 2_000, maxAgeMs: DAY } };
    const a = await SnapshotStore.open(opts);
    await a.start();
    const kept = await a.save({ deviceId: 'cam-1', bytes: picture(1), contentType: 'image/jpeg', takenAt: clock.now(), reason: 'r' });
    await expect(a.save({ deviceId: 'cam-1', bytes: Buffer.alloc(0), contentType: 'image/jpeg', takenAt: clock.now(), reason: 'r' })).rejects.toThrow(/empty/);
    await expect(a.save({ deviceId: 'cam-1', bytes: Buffer.alloc(5000, 1), contentType: 'image/jpeg', takenAt: clock.now(), reason: 'r' })).rejects.toThrow(
      /larger than/,
    );
    await a.stop();
    mkdirSync(join(dir, '20261121'), { recursive: true });
    writeFileSync(join(dir, '20261121', 'orphan.jpg'), 'x');
    writeFileSync(join(dir, '20261121', '.half-written.tmp'), 'x');
    const b = await SnapshotStore.open(opts);
    await b.start();
    cleanups.push(() => b.stop());
    expect(readdirSync(join(dir, '20261121')).sort()).toEqual([`${kept.id}.jpg`]);
    expect(await b.read(kept.id)).not.toBeNull();
    expect(b.usage().count).toBe(1);
  });
});
