import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../gateway/core/events.ts';
import { Metrics } from '../../../gateway/metrics.ts';
import { CountyFeed } from '../../../gateway/store/county-feed.ts';
import { Db } from '../../../gateway/store/db.ts';
import { CATCH_UP_ROWS, WATERMARK_KEY } from '../../../gateway/store/event-index.ts';
import { PanelQueries } from '../../../gateway/store/panel-queries.ts';
import { DB_NAME, type Store } from '../../../gateway/store/store.ts';
import { openStore, sampleEvent, tempDir } from '../../helpers/store.ts';

let t: ReturnType<typeof tempDir>;
let store: Store | null = null;
let raw: Db | null = null;
beforeEach(() => {
  t = tempDir();
});
afterEach(async () => {
  await raw?.close().catch(() => {});
  await store?.close().catch(() => {});
  raw = store = null;
  t.cleanup();
});

const N = Math.round(CATCH_UP_ROWS * 2.5);
// Devices of very different rates: door-0 every other event, the rarest one event in 97.
const deviceOf = (i: number) => (i % 2 === 0 ? 'door-0' : i % 97 === 1 ? 'rare-1' : `cam-${i % 5}`);
const gridOf = (i: number) => (i % 3 === 0 ? null : `grid-${i % 3}`);

async function fill(s: Store, from = 0, n = N): Promise<void> {
  for (let i = from; i < from + n; i += 256) {
    await Promise.all(
      Array.from({ length: Math.min(256, from + n - i) }, (_, k) =>
        s.events.append(sampleEvent(i + k === 7 ? 'zone_alarm' : 'access_granted', deviceOf(i + k)), { grid: gridOf(i + k) }),
      ),
    );
  }
}

async function everything(s: Store): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (let page = await s.events.read({ limit: 10_000 }); page.length; page = await s.events.read({ after: all.at(-1)!.seq, limit: 10_000 })) all.push(...page);
  return all;
}

async function watermark(): Promise<number> {
  raw ??= await Db.open(join(t.dir, DB_NAME), { readonly: true });
  return (await raw.get<{ value: number }>('SELECT value FROM meta WHERE key = ?', [WATERMARK_KEY]))!.value;
}

describe('device and grid timelines', () => {
  it('give a device its newest events and a cursor read its events, the same on both sides of the watermark', async () => {
    store = await openStore(t.dir);
    await fill(store);
    const indexed = await watermark();
    // Caught up in bulk behind the appends: most is indexed, a tail shorter than a catch-up is not.
    expect(indexed).toBeGreaterThanOrEqual(N - CATCH_UP_ROWS - 256);
    expect(indexed).toBeLessThan(N);

    const all = await everything(store);
    const queries = new PanelQueries(raw!);
    for (const device of ['door-0', 'rare-1', 'cam-3', 'nobody']) {
      const mine = all.filter((e) => e.deviceId === device);
      const newest = await queries.recentEvents(device, 40);
      expect(newest.map((e) => e.seq)).toEqual(
        mine
          .slice(-40)
          .reverse()
          .map((e) => e.seq),
      );
      expect((await queries.lastEvent(device))?.seq).toBe(mine.at(-1)?.seq);
      // Paged from the start by a cursor, crossing the watermark.
      const paged: number[] = [];
      for (let after = 0; ;) {
        const page = await store.events.read({ deviceIds: [device], after, limit: 150 });
        paged.push(...page.map((e) => e.seq));
        if (page.length < 150) break;
        after = page.at(-1)!.seq;
      }
      expect(paged).toEqual(mine.map((e) => e.seq));
    }
    // Several devices, a grid, a kind: every condition applies before the limit.
    const some = await store.events.read({ deviceIds: ['rare-1', 'cam-1'], grid: 'grid-1', limit: 10_000 });
    expect(some.map((e) => e.seq)).toEqual(all.filter((e) => ['rare-1', 'cam-1'].includes(e.deviceId) && e.grid === 'grid-1').map((e) => e.seq));
    const alarms = await store.events.read({ deviceIds: ['cam-2'], kinds: ['zone_alarm'], limit: 1 });
    expect(alarms.map((e) => e.seq)).toEqual(all.filter((e) => e.deviceId === 'cam-2' && e.kind === 'zone_alarm').map((e) => e.seq));
  });

  it('serve the county a grid page by page, never a short page while more of the grid is left', async () => {
    store = await openStore(t.dir);
    await fill(store);
    const all = await everything(store);
    const feed = new CountyFeed(store, (raw = await Db.open(join(t.dir, DB_NAME), { readonly: true })));
    const got: number[] = [];
    let cursor = 0;
    for (let pages = 0; pages < 100; pages++) {
      const page = await feed.eventsSince(cursor, 200, { kinds: ['access_granted'], grid: 'grid-2' });
      got.push(...page.items.map((e) => e.seq));
      if (page.nextCursor === cursor) break;
      cursor = page.nextCursor;
    }
    expect(got).toEqual(all.filter((e) => e.grid === 'grid-2' && e.kind === 'access_granted').map((e) => e.seq));
    expect(cursor).toBe(all.at(-1)!.seq);
  });

  it('never cost the appends their commit: a failing catch-up is rolled back alone, reads stay right, and it is tried again later', async () => {
    store = await openStore(t.dir);
    const s = store;
    const rename = (from: string, to: string) =>
      s.writer.submit({ build: () => ({ statements: [{ sql: `ALTER TABLE ${from} RENAME TO ${to}`, params: [] }], result: undefined }) });
    await rename('events_by_grid', 'grid_away');
    await fill(s);
    const all = await everything(s);
    expect(all).toHaveLength(N);
    expect(s.events.timelines.lastError).toMatch(/no such table: .*events_by_grid/);
    const metrics = new Metrics();
    metrics.attach(s);
    expect(await metrics.registry.getSingleMetricAsString('shouwang_store_unindexed_events')).toMatch(
      new RegExp(`^shouwang_store_unindexed_events ${N}$`, 'm'),
    );
    // Nothing indexed (the device part of the catch-up was rolled back with the grid part), yet every read is whole.
    expect(await watermark()).toBe(0);
    const door = all.filter((e) => e.deviceId === 'door-0');
    expect((await new PanelQueries(raw!).recentEvents('door-0', 5)).map((e) => e.seq)).toEqual(
      door
        .slice(-5)
        .reverse()
        .map((e) => e.seq),
    );
    expect((await s.events.read({ deviceIds: ['door-0'], limit: 10_000 })).length).toBe(door.length);
    await rename('grid_away', 'events_by_grid');
    await fill(s, N, CATCH_UP_ROWS);
    expect(s.events.timelines.lastError).toBeNull();
    expect(await watermark()).toBeGreaterThanOrEqual(N);
    expect(s.events.lastSeq() - s.events.timelines.indexed).toBeLessThan(CATCH_UP_ROWS);
  });

  it('keep their place across a restart and lose the events retention removes', async () => {
    store = await openStore(t.dir);
    await fill(store);
    const before = await watermark();
    await store.close();
    store = await openStore(t.dir);
    expect(await watermark()).toBe(before);
    // The indexer goes on from where it was: the next catch-up is due after CATCH_UP_ROWS more.
    await fill(store, N, CATCH_UP_ROWS);
    expect(await watermark()).toBeGreaterThan(before);

    await store.events.timelines.catchUp();
    const all = await everything(store);
    const door = all.filter((e) => e.deviceId === 'door-0').length;
    expect((await raw!.get<{ n: number }>(`SELECT count(*) AS n FROM events_by_device WHERE device_id = 'door-0'`))!.n).toBe(door);
    // Retention deletes the oldest events: their timeline rows go with them.
    await store.writer.submit({ build: () => ({ statements: [{ sql: 'DELETE FROM events WHERE seq <= 1000', params: [] }], result: undefined }) });
    const left = all.filter((e) => e.seq > 1000);
    expect((await raw!.get<{ n: number }>('SELECT count(*) AS n FROM events_by_device'))!.n).toBe(left.length);
    expect((await raw!.get<{ n: number }>('SELECT count(*) AS n FROM events_by_grid'))!.n).toBe(left.filter((e) => e.grid !== null).length);
    expect((await new PanelQueries(raw!).recentEvents('door-0', 5000)).length).toBe(left.filter((e) => e.deviceId === 'door-0').length);
  });
});
