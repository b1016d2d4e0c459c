import { afterEach, describe, expect, it } from 'vitest';
import { Pacer } from '../../../cloud-bridge/push/pacer.ts';
import { Pusher, type PusherOptions } from '../../../cloud-bridge/push/pusher.ts';
import type { Batch, SendOutcome, Transport } from '../../../cloud-bridge/push/wire.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { openStore, silentLog, tempDir } from '../../helpers/store.ts';
import { fill, mixedEntries } from '../../integration/bridge/helpers.ts';

/** A county whose every answer the test scripts. */
class ScriptedCounty implements Transport {
  readonly name = 'scripted';
  batches: Batch[] = [];
  constructor(public answer: (b: Batch) => SendOutcome = (b) => ackAll(b)) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async send(b: Batch): Promise<SendOutcome> {
    this.batches.push(b);
    return this.answer(b);
  }
}
const ackAll = (b: Batch, rttMs = 10): SendOutcome => ({ kind: 'ack', ack: { accepted: b.envelopes.map((e) => e.id), rejected: [] }, rttMs });

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(
  over: Partial<PusherOptions> = {},
  county = new ScriptedCounty(),
): Promise<{ store: Store; clock: FakeClock; p: Pusher; county: ScriptedCounty }> {
  const t = tempDir('shouwang-pusher-');
  const clock = new FakeClock();
  const store = await openStore(t.dir, { outbox: { maxAttempts: 3 } }, clock);
  cleanups.push(
    () => t.cleanup(),
    () => store.close(),
  );
  const p = new Pusher({
    boxId: 'sw-test-001',
    outbox: store.outbox,
    transport: county,
    clock,
    log: silentLog,
    batchSize: 50,
    fairAfterMs: 10_000,
    pacing: { startRate: 100, maxRate: 400, slowMs: 1000 },
    backoff: { baseMs: 1000, capMs: 60_000 },
    random: () => 1,
    ...over,
  });
  return { store, clock, p, county };
}

describe('replay pacing (fake clock)', () => {
  it('starts a backlog at the configured pace and grows it while the county answers quickly, up to the maximum', async () => {
    const { store, clock, p } = await setup();
    await fill(store, mixedEntries(1000));
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await p.step();
      expect(r.why).toBe('sent');
      waits.push(r.waitMs);
      expect((await p.step()).why).toBe('paced'); // nothing goes out before its turn
      clock.advance(r.waitMs);
    }
    // 50 entries at 100/s = 500 ms, then ×1.25 faster each quick answer, never above 400/s (125 ms)
    expect(waits).toEqual([500, 400, 320, 256, 205, 164, 132, 125, 125]);
    expect(p.stats()).toMatchObject({ mode: 'replay', rate: 400 });
  });

  it('halves the pace when the county answers slowly or pushes back, and goes unpaced once caught up', async () => {
    let rtt = 5000;
    const county = new ScriptedCounty((b) => ackAll(b, rtt));
    const { store, clock, p } = await setup({}, county);
    await fill(store, mixedEntries(230));
    const r1 = await p.step(); // slow answer: 100/s -> 50/s
    clock.advance(r1.waitMs);
    const r2 = await p.step(); // 50 entries at 50/s
    expect(r2.waitMs).toBe(1000);
    expect(p.stats().rate).toBe(25); // halved again, and never below a quarter of the start
    clock.advance(r2.waitMs);
    await p.step();
    expect(p.stats().rate).toBe(25);
    rtt = 5;
    clock.advance(10_000);
    await p.step(); // 200 sent, 30 left: this batch is not full
    clock.advance(10_000);
    const last = await p.step();
    expect(last).toMatchObject({ why: 'sent', sent: 30, waitMs: 0 });
    expect(p.stats()).toMatchObject({ mode: 'live', rate: 100 });
  });

  it('Pacer: pushback halves, an outage while live starts the next replay at the configured pace', () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ startRate: 200, maxRate: 2000, slowMs: 500 }, clock);
    pacer.answered(10, false);
    expect(pacer.mode).toBe('live');
    expect(pacer.wait()).toBe(0);
    pacer.outage();
    expect(pacer).toMatchObject({ mode: 'replay', rate: 200 });
    pacer.pushback();
    expect(pacer.rate).toBe(100);
    pacer.sent(100);
    expect(pacer.wait()).toBe(1000);
  });
});

describe('lanes and fairness (fake clock)', () => {
  it('sends alarms strictly first until the outbox has been backlogged for fairAfterMs, then gives each lower lane its share', async () => {
    const { store, clock, p, county } = await setup({ pacing: { startRate: 100_000, maxRate: 100_000, slowMs: 1000 } });
    const alarms = mixedEntries(400, 1); // all alarms
    const records = mixedEntries(200, 1000).slice(1); // records and status
    await fill(store, [...records, ...alarms]);
    await p.step();
    clock.advance(5_000);
    await p.step();
    expect(county.batches.flatMap((b) => b.envelopes.map((e) => e.lane))).toEqual(Array(100).fill('alarm'));
    clock.advance(5_000); // backlogged for 10 s now
    await p.step();
    const lanes = county.batches[2]!.envelopes.map((e) => e.lane);
    expect(lanes.filter((l) => l === 'alarm')).toHaveLength(40);
    expect(lanes.filter((l) => l === 'record')).toHaveLength(5);
    expect(lanes.filter((l) => l === 'status')).toHaveLength(5);
    // order within each lane is kept
    const seqs = county.batches
      .flatMap((b) => b.envelopes)
      .filter((e) => e.lane === 'alarm')
      .map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});

describe('fairness after an outage (fake clock)', () => {
  it('does not count the outage as starvation: after a long outage the backlog still leaves alarms first', async () => {
    let down = true;
    const county = new ScriptedCounty((b) => (down ? { kind: 'unavailable', reason: 'ECONNREFUSED' } : ackAll(b)));
    const { store, clock, p } = await setup({ pacing: { startRate: 100_000, maxRate: 100_000, slowMs: 1000 } }, county);
    await fill(store, [...mixedEntries(200, 1000).slice(1), ...mixedEntries(400, 1)]); // records and status, then alarms
    for (let i = 0; i < 20; i++) {
      await p.step(); // refused: the county is down for minutes
      clock.advance(60_000);
    }
    down = false;
    county.batches = [];
    clock.advance(61_000); // past the last backoff
    for (let i = 0; i < 8; i++) {
      await p.step(); // 400 alarms in batches of 50, well within fairAfterMs of moving backlog
      clock.advance(10);
    }
    expect(county.batches.flatMap((b) => b.envelopes.map((e) => e.lane))).toEqual(Array(400).fill('alarm'));
  });
});

describe('transport failures (fake clock)', () => {
  it('back off exponentially with jitter and never count against the entries, however long the outage', async () => {
    const county = new ScriptedCounty(() => ({ kind: 'unavailable', reason: 'ECONNREFUSED' }));
    let r = 0.5;
    const { store, clock, p } = await setup({ random: () => r }, county);
    await fill(store, mixedEntries(20));
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      const s = await p.step();
      expect(s.why).toBe('unavailable');
      waits.push(s.waitMs);
      expect((await p.step()).why).toBe('backoff');
      clock.advance(s.waitMs);
    }
    // base 1 s doubling, capped at 60 s; jitter 0.5 -> 75 % of the step
    expect(waits).toEqual([750, 1500, 3000, 6000, 12000, 24000, 45000, 45000, 45000, 45000, 45000, 45000]);
    r = 0;
    await p.step();
    expect(p.stats().consecutiveFailures).toBe(13);
    expect(await store.outbox.deadLetters()).toEqual([]);
    const [e] = await store.outbox.next(1);
    expect(e!.attempts).toBe(0);
  });

  it('dead-letters an entry the county keeps asking to retry after maxAttempts, while the rest of its lane goes on', async () => {
    const county = new ScriptedCounty((b) => ({
      kind: 'ack',
      ack: {
        accepted: b.envelopes.filter((e) => e.seq !== 3).map((e) => e.id),
        rejected: b.envelopes.filter((e) => e.seq === 3).map((e) => ({ id: e.id, reason: 'device not yet registered', retryable: true })),
      },
      rttMs: 5,
    }));
    const { store, clock, p } = await setup({}, county);
    await fill(store, mixedEntries(12, 1)); // 12 alarms, one lane
    for (let i = 0; i < 10 && (await store.outbox.depth())[0]!.depth > 0; i++) {
      await p.step();
      clock.advance(120_000);
    }
    const dead = await store.outbox.deadLetters();
    expect(dead.map((d) => d.seq)).toEqual([3]);
    expect(dead[0]!.reason).toMatch(/after 3 attempts: the county asked to retry: device not yet registered/);
    expect((await store.outbox.depth())[0]!.depth).toBe(0);
  });
});
