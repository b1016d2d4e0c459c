import { afterEach, describe, expect, it } from 'vitest';
import type { Pusher } from '../../../cloud-bridge/push/pusher.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { CountyReceiver, type ReceiverOptions } from '../../../simulators/county-platform/index.ts';
import { openStore, tempDir } from '../../helpers/store.ts';
import { fill, httpTransport, mixedEntries, outboxEmpty, pusher, waitFor } from './helpers.ts';

const TOKEN = 'county-test-token';
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(
  sim: ReceiverOptions,
  push: Parameters<typeof pusher>[2] = {},
  transport: Parameters<typeof httpTransport>[2] = {},
): Promise<{ store: Store; county: CountyReceiver; p: Pusher }> {
  const t = tempDir('shouwang-push-');
  const store = await openStore(t.dir);
  const county = await new CountyReceiver({ tokens: [TOKEN], ...sim }).start();
  const p = pusher(store, httpTransport(county.url, undefined, transport), push);
  cleanups.push(
    () => t.cleanup(),
    () => store.close(),
    () => county.stop(),
    () => p.stop(),
  );
  return { store, county, p };
}

const box = (county: CountyReceiver) => county.accounting.report().boxes[0]!;

describe('push over HTTP to the county simulator', () => {
  it('keeps everything through an outage, then delivers it with no gap, every alarm before the first record', async () => {
    const { store, county, p } = await setup({ mode: 'down' });
    await fill(store, mixedEntries(400));
    await p.start();
    await waitFor(() => p.stats().consecutiveFailures >= 3, 'the pusher to notice the county is down');
    expect((await store.outbox.depth()).reduce((n, d) => n + d.depth, 0)).toBe(400);
    expect(await store.outbox.deadLetters()).toEqual([]); // an outage costs entries nothing
    expect(p.stats().lastError).toMatch(/ECONNREFUSED/);

    await county.setMode('healthy');
    await waitFor(() => outboxEmpty(store), 'the backlog to drain');
    const b = box(county);
    expect(b).toMatchObject({ received: 400, duplicates: 0, rejected: 0, gaps: 0, firstSeq: 1, highestContiguousSeq: 400 });
    expect(b.byLane.alarm!.count).toBe(40);
    expect(b.byLane.alarm!.lastArrival).toBeLessThan(b.byLane.record!.firstArrival!);
    expect(b.byLane.record!.lastArrival).toBeLessThan(b.byLane.status!.firstArrival!);
  });

  it('sends again what was processed but never acked (lost acks); the county drops the duplicates by id', async () => {
    const { store, county, p } = await setup({ mode: 'lost-acks', lostShare: 0.5, seed: 11 });
    await fill(store, mixedEntries(500));
    await p.start();
    await waitFor(() => outboxEmpty(store), 'every entry to be acked at last');
    const b = box(county);
    expect(b.received).toBe(500);
    expect(b.gaps).toBe(0);
    expect(b.duplicates).toBeGreaterThan(0); // the batches whose answer was cut
    expect(county.requests.lost).toBeGreaterThan(0);
    expect(b.seqConflicts).toBe(0);
  });

  it('sends again the ids a partial ack leaves out, without counting them as failures', async () => {
    const { store, county, p } = await setup({ mode: 'partial', partialShare: 0.4, seed: 3 }, { backoff: { baseMs: 5000, capMs: 5000 } });
    await fill(store, mixedEntries(500));
    await p.start();
    await waitFor(() => outboxEmpty(store), 'every entry to be acked at last');
    const b = box(county);
    expect(b).toMatchObject({ received: 500, duplicates: 0, gaps: 0 });
    expect(p.stats().failures).toBe(0); // nothing backed off: a partial ack is an answer
    expect(await store.outbox.deadLetters()).toEqual([]);
  });

  it('moves an entry the county rejects to dead-letter with the reason and keeps its lane going', async () => {
    const { store, county, p } = await setup({ maxEnvelopeBytes: 16_384 });
    const entries = mixedEntries(200, 10);
    // A record far too large for this county, in the middle of the record lane.
    entries[101] = { lane: 'record', type: 'event', occurredAt: Date.now(), body: { kind: 'access_granted', note: 'x'.repeat(40_000) } };
    await fill(store, entries);
    await p.start();
    await waitFor(() => outboxEmpty(store), 'the lane to drain past the poison entry');
    const dead = await store.outbox.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ seq: 102, lane: 'record' });
    expect(dead[0]!.reason).toMatch(/rejected by the county: body of \d+ bytes is larger than the 16384 bytes/);
    const b = box(county);
    expect(b).toMatchObject({ received: 199, rejected: 1, gaps: 0, highestContiguousSeq: 200 });
    expect(b.rejections[0]).toMatchObject({ seq: 102 });
  });

  it('splits a batch the county refuses whole (HTTP 400) until the offending entry stands alone', async () => {
    const { store, county, p } = await setup({ mode: 'strict', maxEnvelopeBytes: 16_384 }, { batchSize: 64 });
    const entries = mixedEntries(150, 10);
    entries[77] = { lane: 'record', type: 'event', occurredAt: Date.now(), body: { kind: 'access_granted', note: 'x'.repeat(40_000) } };
    await fill(store, entries);
    await p.start();
    await waitFor(() => outboxEmpty(store), 'the batch to be split and drained');
    const dead = await store.outbox.deadLetters();
    expect(dead.map((d) => d.seq)).toEqual([78]);
    expect(dead[0]!.reason).toMatch(/refused by the county: HTTP 400 .*larger than/);
    const b = box(county);
    expect(b).toMatchObject({ received: 149, duplicates: 0 });
    expect(b.gapRanges).toEqual([[78, 78]]); // the county refused it without looking: to it, a gap the box accounts for in its dead-letter
    expect(county.accounting.refusedBatches).toBeGreaterThan(1);
  });

  it('backs off on 500s and honours Retry-After on 429', async () => {
    const { store, county, p } = await setup({ mode: 'throttle', retryAfterSeconds: 2 });
    await fill(store, mixedEntries(20));
    const r = await p.step();
    expect(r.why).toBe('unavailable');
    expect(r.waitMs).toBeGreaterThan(1900);
    expect(r.waitMs).toBeLessThanOrEqual(2000);
    expect(p.stats().lastError).toMatch(/HTTP 429/);
    expect((await p.step()).why).toBe('backoff'); // nothing goes out before Retry-After has passed
    expect(county.requests[429]).toBe(1);

    await county.setMode('flaky', { failShare: 1 });
    const q = pusher(store, httpTransport(county.url), { backoff: { baseMs: 1000, capMs: 8000 } });
    cleanups.push(() => q.stop());
    const waits = [];
    for (let i = 0; i < 4; i++) {
      let s = await q.step();
      // a replay paces its batches (a millisecond at this pace): let that pass, it is not what is measured here
      for (let k = 0; s.why === 'paced' && k < 10; k++) {
        await new Promise((r) => setTimeout(r, s.waitMs));
        s = await q.step();
      }
      expect(s.why).toBe('unavailable');
      waits.push(s.waitMs);
      (q as unknown as { blockedUntil: number }).blockedUntil = 0; // skip the wait; the growth is what is checked
    }
    // jittered exponential: attempt n waits between half and all of 1 s·2^(n-1)
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(500 * 2 ** i - 5);
      expect(w).toBeLessThanOrEqual(1000 * 2 ** i);
    });
    await county.setMode('healthy');
    await q.start();
    await waitFor(() => outboxEmpty(store), 'delivery once the county recovers');
    expect(box(county)).toMatchObject({ received: 20, gaps: 0 });
  });

  it('treats an answer slower than its timeout as a lost ack: sends again, the county drops the copies, nothing is lost', async () => {
    // the county processes each batch but answers after 700 ms; the box gives up after 300 ms
    const { store, county, p: q } = await setup({ mode: 'slow', slowMs: 700 }, { backoff: { baseMs: 50, capMs: 100 } }, { timeoutMs: 300 });
    await fill(store, mixedEntries(120));
    await q.start();
    await waitFor(() => q.stats().failures >= 3, 'timeouts');
    expect(q.stats().lastError).toMatch(/no answer within 300 ms/);
    await county.setMode('healthy');
    await waitFor(() => outboxEmpty(store), 'delivery once the county answers in time');
    const b = box(county);
    expect(b).toMatchObject({ received: 120, gaps: 0, seqConflicts: 0 });
    expect(b.duplicates).toBeGreaterThan(0);
    expect(await store.outbox.deadLetters()).toEqual([]);
  });

  it('does not count a wrong token against entries: it keeps them and says what to check', async () => {
    const t = tempDir('shouwang-push-');
    const store = await openStore(t.dir);
    const county = await new CountyReceiver({ tokens: ['the-real-token'] }).start();
    const p = pusher(store, httpTransport(county.url, { type: 'bearer', token: 'a-wrong-token' }));
    cleanups.push(
      () => t.cleanup(),
      () => store.close(),
      () => county.stop(),
      () => p.stop(),
    );
    await fill(store, mixedEntries(10));
    const r = await p.step();
    expect(r.why).toBe('unavailable');
    expect(p.stats().lastError).toMatch(/HTTP 401: the county refused the box's credentials/);
    expect(await store.outbox.deadLetters()).toEqual([]);
    expect(county.accounting.report().boxes).toEqual([]);
  });
});
