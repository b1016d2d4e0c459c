import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../gateway/core/clock.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { RAW_EXCERPT_MAX, type DeviceEvent, type StoredEvent } from '../../../gateway/core/events.ts';
import { openStore, sampleEvent, tempDir } from '../../helpers/store.ts';

let t: ReturnType<typeof tempDir>;
let store: Store | null = null;
beforeEach(() => {
  t = tempDir();
});
afterEach(async () => {
  await store?.close().catch(() => {});
  store = null;
  t.cleanup();
});

describe('event store', () => {
  it('gives 1,000 concurrent appends distinct, gapless sequences and reads them back in order by cursor', async () => {
    store = await openStore(t.dir);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => store!.events.append(sampleEvent(i % 2 ? 'motion' : 'zone_alarm', `dev-${i % 10}`))),
    );
    const seqs = results.map((r) => (r.stored ? r.seq : -1)).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    const first = await store.events.read({ limit: 600 });
    const rest = await store.events.read({ after: first.at(-1)!.seq, limit: 600 });
    expect(first.length + rest.length).toBe(1000);
    expect([...first, ...rest].map((e) => e.seq)).toEqual(seqs);
  });

  it('commits the appenders a commit woke in the next commit at once, not after another maxDelayMs', async () => {
    const commits: number[] = [];
    const s = (store = await openStore(t.dir, { groupCommit: { maxBatch: 512, maxDelayMs: 1000 }, onCommit: (c) => commits.push(c.jobs) }));
    const started = performance.now();
    // 50 appenders, each appending again as soon as its previous append resolves, 4 rounds.
    await Promise.all(
      Array.from({ length: 50 }, async (_, a) => {
        for (let round = 0; round < 4; round++) await s.events.append(sampleEvent('access_granted', `door-${a}`));
      }),
    );
    const ms = performance.now() - started;
    expect(commits).toEqual([50, 50, 50, 50]);
    // The first round waits out maxDelayMs (nothing was committing); the other three follow without waiting.
    expect(ms).toBeGreaterThanOrEqual(990);
    expect(ms).toBeLessThan(1900);
  });

  it('filters cursor reads by kind, device, lane and grid, and keeps every field of the event', async () => {
    store = await openStore(t.dir);
    await store.events.append(sampleEvent('zone_alarm', 'panel-1'), { grid: 'g1' });
    await store.events.append(sampleEvent('access_granted', 'door-1'), { grid: 'g2' });
    await store.events.append(sampleEvent('motion', 'cam-1'), { grid: 'g1' });
    expect((await store.events.read({ kinds: ['access_granted'] })).map((e) => e.deviceId)).toEqual(['door-1']);
    expect((await store.events.read({ deviceIds: ['cam-1'] })).map((e) => e.kind)).toEqual(['motion']);
    expect((await store.events.read({ lanes: ['alarm'] })).map((e) => e.kind)).toEqual(['zone_alarm']);
    expect((await store.events.read({ grid: 'g1' })).length).toBe(2);
    const [alarm] = await store.events.read({ kinds: ['zone_alarm'] });
    expect(alarm).toMatchObject({ lane: 'alarm', active: true, clockTrusted: true, clockOffsetMs: -40, attrs: { zone: 3, zoneType: 'intrusion' }, grid: 'g1' });
    expect(await store.events.byId(alarm!.id)).toEqual(alarm);
  });

  it('stores awkward values exactly: CJK, emoji, quotes, SQL, backslashes, line separators, nulls, large and negative numbers', async () => {
    store = await openStore(t.dir);
    // The rows travel to SQLite inside a string literal (writer.ts): a value must not end it early.
    const text = '东门 "主"\\入口\n\u2028😀\t\'\'); DROP TABLE events; --\u0000末';
    const event = {
      ...sampleEvent('generic', 'cam-东门'),
      deviceTime: null,
      receivedAt: 8_640_000_000_000,
      clockOffsetMs: -2_147_483_649,
      source: text,
      attrs: { topic: text, data: { nested: [1.5, null, true, text] } },
      raw: text,
    } as DeviceEvent;
    const forward = (e: StoredEvent) => ({ lane: e.lane, type: 'event' as const, occurredAt: e.receivedAt, body: { text, n: -0.25 } });
    await store.events.append(event, { grid: text, forward });
    const [back] = await store.events.read({});
    expect(back).toMatchObject({
      deviceId: 'cam-东门',
      deviceTime: null,
      receivedAt: 8_640_000_000_000,
      clockOffsetMs: -2_147_483_649,
      source: text,
      raw: text,
      grid: text,
    });
    expect(back!.attrs).toEqual(event.attrs);
    const [entry] = await store.outbox.next(10);
    expect(entry!.body).toEqual({ text, n: -0.25 });
    expect(entry!.occurredAt).toBe(8_640_000_000_000);
  });

  it('keeps at most a bounded excerpt of a device payload, whoever appends it', async () => {
    store = await openStore(t.dir);
    const e = { ...sampleEvent('smoke', 'hall-1'), raw: `{"t":"smoke","pad":"${'x'.repeat(5000)}"}` } as DeviceEvent;
    const r = await store.events.append(e);
    const [stored] = await store.events.read({ deviceIds: ['hall-1'] });
    expect(stored!.raw).toHaveLength(RAW_EXCERPT_MAX);
    expect(stored!.raw!.endsWith('…')).toBe(true);
    expect(r.stored && r.seq).toBe(stored!.seq);
  });

  it('stores a resent device event once, even when the resend races the original or comes after a restart', async () => {
    store = await openStore(t.dir);
    const e = sampleEvent('door_forced', 'door-1');
    const [a, b] = await Promise.all([store.events.append(e, { dedupeKey: 'd1-0042' }), store.events.append(e, { dedupeKey: 'd1-0042' })]);
    expect(a).toMatchObject({ stored: true, seq: 1 });
    expect(b).toEqual({ stored: false, reason: 'duplicate', seq: 1, id: (a as { id: string }).id });
    // the same key from another device is another event
    expect(await store.events.append(sampleEvent('door_forced', 'door-2'), { dedupeKey: 'd1-0042' })).toMatchObject({ stored: true, seq: 2 });
    await store.close();
    store = await openStore(t.dir);
    expect(await store.events.append(e, { dedupeKey: 'd1-0042' })).toMatchObject({ stored: false, reason: 'duplicate', seq: 1 });
    expect((await store.events.read()).length).toBe(2);
  });

  it('looks up a resend the device marks as such first, so it does not fail the commit its neighbours share', async () => {
    const commits: { jobs: number; ok: boolean }[] = [];
    store = await openStore(t.dir, { onCommit: (c) => commits.push({ jobs: c.jobs, ok: c.ok }) });
    const s = store;
    await s.events.append(sampleEvent('door_forced', 'door-1'), { dedupeKey: 'd1-1' });
    const burst = (resent: boolean, from: number) =>
      Promise.all([
        s.events.append(sampleEvent('door_forced', 'door-1'), { dedupeKey: 'd1-1', resent }),
        ...Array.from({ length: 50 }, (_, i) => s.events.append(sampleEvent('access_granted', `door-${i}`), { dedupeKey: `n-${from + i}` })),
      ]);
    commits.length = 0;
    const marked = await burst(true, 0);
    expect(marked[0]).toMatchObject({ stored: false, reason: 'duplicate', seq: 1 });
    expect(marked.slice(1).every((r) => r.stored)).toBe(true);
    expect(commits.filter((c) => !c.ok)).toEqual([]);
    // Unmarked, the same resend fails the shared commit, which is then retried job by job: it still works, slowly.
    commits.length = 0;
    const unmarked = await burst(false, 100);
    expect(unmarked[0]).toMatchObject({ stored: false, reason: 'duplicate', seq: 1 });
    expect(unmarked.slice(1).every((r) => r.stored)).toBe(true);
    expect(commits.filter((c) => !c.ok).length).toBeGreaterThan(0);
    expect(commits.length).toBeGreaterThan(50);
  });

  it('survives a close and reopen with sequences continuing where they stopped', async () => {
    store = await openStore(t.dir);
    for (let i = 0; i < 5; i++) await store.events.append(sampleEvent('motion', 'cam-1'));
    await store.close();
    store = await openStore(t.dir);
    expect(store.uncleanShutdown).toBe(false);
    const r = await store.events.append(sampleEvent('motion', 'cam-1'));
    expect(r).toMatchObject({ stored: true, seq: 6 });
  });

  it('refuses only the write that breaks a batch; its neighbours commit and the outbox seq stays gapless', async () => {
    store = await openStore(t.dir);
    const forward = (e: { id: string; receivedAt: number }) => ({
      lane: 'record' as const,
      type: 'event' as const,
      occurredAt: e.receivedAt,
      body: { id: e.id },
    });
    const jobs = [
      ...Array.from({ length: 50 }, () => store!.events.append(sampleEvent('access_granted', 'door-1'), { forward })),
      store.outbox.enqueue([{ id: 'same-id', lane: 'status', type: 'device.status', occurredAt: 1, body: {} }]),
      store.outbox.enqueue([{ id: 'same-id', lane: 'status', type: 'device.status', occurredAt: 1, body: {} }]),
      ...Array.from({ length: 50 }, () => store!.events.append(sampleEvent('access_granted', 'door-2'), { forward })),
    ];
    const settled = await Promise.allSettled(jobs);
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect((await store.events.read({ limit: 1000 })).length).toBe(100);
    const entries = await store.outbox.next(1000);
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  });
});

describe('outbox', () => {
  const entry = (lane: 'alarm' | 'record' | 'status', n: number) => ({ lane, type: 'event' as const, occurredAt: n, body: { n } });

  it('commits the county’s acks ahead of thousands of queued device events, so delivery keeps up under a flood', async () => {
    const s = (store = await openStore(t.dir));
    await s.outbox.enqueue([entry('record', 1), entry('record', 2)]);
    const sent = await s.outbox.next(10);
    const order: string[] = [];
    const appends = Array.from({ length: 3000 }, (_, i) => s.events.append(sampleEvent('access_granted', `door-${i % 50}`)).then(() => order.push('append')));
    const ack = s.outbox.ack(sent.map((e) => e.id)).then(() => order.push('ack'));
    await Promise.all([...appends, ack]);
    expect(order.indexOf('ack')).toBeLessThan(1200); // in the first commits, not after the 3,000 appends queued before it
    expect(await s.outbox.next(10)).toEqual([]);
  });

  it('drains alarms first, keeps a fair share for lower lanes, and keeps order within each lane', async () => {
    store = await openStore(t.dir);
    await store.outbox.enqueue(Array.from({ length: 30 }, (_, i) => entry('status', i)));
    await store.outbox.enqueue(Array.from({ length: 30 }, (_, i) => entry('record', i)));
    await store.outbox.enqueue(Array.from({ length: 300 }, (_, i) => entry('alarm', i)));
    const batch = await store.outbox.next(100);
    const count = (lane: string) => batch.filter((e) => e.lane === lane).length;
    expect(count('alarm')).toBe(80);
    expect(count('record')).toBe(10);
    expect(count('status')).toBe(10);
    expect(batch.slice(0, 80).map((e) => (e.body as { n: number }).n)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(await store.outbox.ack(batch.map((e) => e.id))).toBe(100);
    const depth = await store.outbox.depth();
    expect(depth.map((d) => d.depth)).toEqual([220, 20, 20]);
  });

  it('backs off a failed head without letting the entries behind it overtake, then dead-letters it after the maximum attempts', async () => {
    const clock = new FakeClock();
    store = await openStore(t.dir, { outbox: { maxAttempts: 3 } }, clock);
    await store.outbox.enqueue([entry('alarm', 1), entry('alarm', 2)]);
    const [head] = await store.outbox.next(10);
    await store.outbox.fail([head!.id], 'county answered 500 for this entry');
    expect(await store.outbox.next(10)).toEqual([]); // the head waits out its backoff; entry 2 waits behind it
    clock.advance(10 * 60_000);
    const again = await store.outbox.next(10);
    expect(again.map((e) => (e.body as { n: number }).n)).toEqual([1, 2]);
    expect(again[0]).toMatchObject({ attempts: 1, lastError: 'county answered 500 for this entry' });
    await store.outbox.fail([head!.id], 'still 500');
    clock.advance(10 * 60_000);
    await store.outbox.fail([head!.id], 'still 500');
    const dead = await store.outbox.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ id: head!.id, attempts: 3, reason: 'after 3 attempts: still 500' });
    expect((await store.outbox.next(10)).map((e) => (e.body as { n: number }).n)).toEqual([2]);
  });

  it('reports each lane’s depth and the creation time of its oldest unsent entry, which moves on as the head is acked', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    store = await openStore(t.dir, {}, clock);
    await store.outbox.enqueue([entry('record', 1)]);
    clock.advance(60_000);
    await store.outbox.enqueue([entry('record', 2), entry('alarm', 3)]);
    expect(await store.outbox.depth()).toEqual([
      { lane: 'alarm', depth: 1, oldestCreatedAt: 1_700_000_060_000 },
      { lane: 'record', depth: 2, oldestCreatedAt: 1_700_000_000_000 },
      { lane: 'status', depth: 0, oldestCreatedAt: null },
    ]);
    const batch = await store.outbox.next(2, { fairShare: 0 });
    await store.outbox.ack([batch[1]!.id]); // the alarm, then record 1: ack the record
    expect((await store.outbox.depth())[1]).toEqual({ lane: 'record', depth: 1, oldestCreatedAt: 1_700_000_060_000 });
  });

  it('parks a permanently refused entry in dead-letter with the receiver’s reason', async () => {
    store = await openStore(t.dir);
    const [a] = await store.outbox.enqueue([entry('record', 1)]);
    await store.outbox.deadLetter([a!.id], 'county: body.deviceId unknown');
    expect(await store.outbox.next(10)).toEqual([]);
    expect((await store.outbox.deadLetters())[0]).toMatchObject({ id: a!.id, reason: 'county: body.deviceId unknown', lane: 'record' });
  });

  it('never reuses a sequence, even after every entry was acked and the box restarted', async () => {
    store = await openStore(t.dir);
    const first = await store.outbox.enqueue([entry('alarm', 1), entry('alarm', 2)]);
    await store.outbox.ack(first.map((e) => e.id));
    await store.close();
    store = await openStore(t.dir);
    const [next] = await store.outbox.enqueue([entry('alarm', 3)]);
    expect(next!.seq).toBe(3);
  });
});
