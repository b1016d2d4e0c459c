import { afterEach, describe, expect, it } from 'vitest';
import { advance, parked, rig, settle, subOf, until, waiting, type Rig } from './helpers.ts';

/**
 * The PullPoint subscription's life against the simulated camera, on a fake
 * clock shared by driver and camera (so termination times, long polls and
 * backoff are exact and nothing sleeps).
 */
describe('PullPoint subscription lifecycle', { timeout: 30_000 }, () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.stop();
    r = null;
  });

  it('creates, synchronises, delivers Initialized states once and Changed events as news, renews before termination, unsubscribes on stop', async () => {
    r = await rig([{ id: 'cam-a' }]);
    const cam = r.farm.camera('cam-a');
    await parked(r.farm, 'cam-a');
    expect(cam.stats.creates).toBe(1);
    expect(cam.stats.byOperation.SetSynchronizationPoint).toBe(1);
    // The camera sends its states on create and again after the sync point: the box stores each once, as initial.
    await until('initial states stored', () => r!.sink.events.length >= 4);
    await settle();
    const initial = r.sink.events.filter((e) => e.initial);
    expect(initial.map((e) => e.kind).sort()).toEqual(['digital_input', 'intrusion', 'motion', 'tamper']);
    expect(initial.every((e) => e.active === false)).toBe(true);
    expect(r.sink.events).toHaveLength(4);

    cam.emit({ type: 'motion', active: true });
    await until('motion stored', () => r!.sink.of('motion').some((e) => e.active && !e.initial));
    const motion = r.sink.of('motion').find((e) => e.active)!;
    expect(motion.initial).toBeUndefined();
    expect(motion.deviceId).toBe('cam-a');
    expect(motion.source).toBe('VideoSource_1');
    expect(motion.clockTrusted).toBe(true);
    expect(motion.deviceTime).toBe(r.clock.now());
    expect(Math.abs(motion.clockOffsetMs!)).toBeLessThan(1000);
    await parked(r.farm, 'cam-a'); // the next pull is at the camera before time moves

    // Ten minutes of quiet, a minute at a time: the camera holds each pull 60 s, the driver renews before the end.
    const first = subOf(r.farm, 'cam-a')!;
    await advance(r.clock, 10 * 60_000, 60_000, () => parked(r!.farm, 'cam-a'));
    expect(cam.stats.renews).toBeGreaterThanOrEqual(1);
    expect(cam.stats.expired).toBe(0);
    expect(cam.stats.creates).toBe(1);
    expect(subOf(r.farm, 'cam-a')).toBe(first);
    expect(first.terminatesAt - r.clock.now()).toBeGreaterThan(60_000);
    expect(cam.stats.concurrentPulls).toBe(0);
    expect(r.driver.health()).toEqual([{ deviceId: 'cam-a', reachable: true, eventChannel: 'alive', lastSeen: expect.any(Number) }]);

    await r.driver.stop();
    expect(cam.stats.unsubscribes).toBe(1);
    expect(cam.activeSubscriptions).toBe(0);
  });

  it('sends the next PullMessages only after the previous pull’s events are committed', async () => {
    r = await rig([{ id: 'cam-b' }]);
    const cam = r.farm.camera('cam-b');
    await parked(r.farm, 'cam-b');
    await until('initial states', () => r!.sink.events.length === 4);
    r.sink.hold();
    const pullsBefore = cam.stats.pulls;
    const started = r.sink.emitsStarted;
    cam.emit({ type: 'intrusion', active: true });
    await until('the driver is committing the intrusion', () => r!.sink.emitsStarted === started + 1);
    await settle(100);
    expect(cam.stats.pulls).toBe(pullsBefore); // nothing pulled while the commit is pending
    expect(subOf(r.farm, 'cam-b')!.pending).toBeNull();
    r.sink.release();
    await parked(r.farm, 'cam-b');
    expect(cam.stats.pulls).toBe(pullsBefore + 1);
    expect(r.sink.of('intrusion').filter((e) => e.active)).toHaveLength(1);
  });

  it('retries an event the store refused and pulls nothing until it is committed', async () => {
    r = await rig([{ id: 'cam-f' }]);
    const cam = r.farm.camera('cam-f');
    await parked(r.farm, 'cam-f');
    await until('initial states', () => r!.sink.events.length === 4);
    r.sink.failNext = 2;
    const pulls = cam.stats.pulls;
    cam.emit({ type: 'tamper', active: true });
    for (let i = 0; i < 2; i++) {
      await waiting(r, 'cam-f', 'emit-retry');
      expect(cam.stats.pulls).toBe(pulls);
      r.clock.advance(1000);
    }
    await until('tamper stored', () => r!.sink.of('tamper').some((e) => e.active));
    await parked(r.farm, 'cam-f');
    expect(cam.stats.pulls).toBe(pulls + 1);
    expect(r.sink.of('tamper').filter((e) => e.active)).toHaveLength(1);
  });

  it('recreates a subscription that was dropped silently (answers, never delivers) when a sync point brings nothing, and reports the state it missed', async () => {
    r = await rig([{ id: 'cam-c' }]);
    const cam = r.farm.camera('cam-c');
    await parked(r.farm, 'cam-c');
    await until('initial states', () => r!.sink.events.length === 4);
    cam.dropSubscriptions('silent');
    cam.emit({ type: 'tamper', active: true }); // lost on the zombie subscription
    const zombie = subOf(r.farm, 'cam-c')!;
    // Quiet pulls for the sync-check interval (5 min), then two pulls without the sync point's states.
    const gone = () => !cam.subscriptions.has(zombie.id);
    let minutes = 0;
    while (!gone() && minutes++ < 10) {
      r.clock.advance(60_000);
      await until('pull parked on the zombie, or the zombie given up', () => zombie.pending !== null || gone());
    }
    expect(minutes).toBe(7); // a sync point after 5 quiet minutes, then two one-minute pulls without its Initialized states
    await waiting(r, 'cam-c', 'backoff');
    r.clock.advance(1000);
    await until('recreated', () => cam.stats.creates === 2);
    await parked(r.farm, 'cam-c');
    expect(cam.subscriptions.has(zombie.id)).toBe(false); // the zombie was unsubscribed, not leaked
    expect(r.driver.session('cam-c')!.stats.syncChecks).toBe(1);
    // The tamper the zombie swallowed arrives as a state snapshot (initial), not as a fresh change.
    await until('missed tamper reported', () => r!.sink.of('tamper').some((e) => e.active));
    const tamper = r.sink.of('tamper').filter((e) => e.active);
    expect(tamper).toHaveLength(1);
    expect(tamper[0]!.initial).toBe(true);
    cam.emit({ type: 'motion', active: true });
    await until('events flow on the new subscription', () => r!.sink.of('motion').some((e) => e.active));
    expect(r.sink.of('event_channel_lost')).toHaveLength(0); // one failure, recovered at once: not an outage
  });

  it('recreates a subscription the camera forgot (ResourceUnknown) without trying to unsubscribe it', async () => {
    r = await rig([{ id: 'cam-d' }]);
    const cam = r.farm.camera('cam-d');
    await parked(r.farm, 'cam-d');
    cam.dropSubscriptions('fault');
    await waiting(r, 'cam-d', 'backoff');
    expect(r.driver.health()[0]!.eventChannel).toBe('lost');
    expect(cam.stats.creates).toBe(1); // not immediately: backoff first
    r.clock.advance(1000);
    await until('recreated', () => cam.stats.creates === 2);
    await parked(r.farm, 'cam-d');
    expect(cam.stats.unsubscribes).toBe(0);
    cam.emit({ type: 'line', rule: '北门绊线' });
    await until('line crossing', () => r!.sink.of('line_crossing').length === 1);
    expect(r.sink.of('line_crossing')[0]!.attrs).toEqual({ rule: '北门绊线' });
  });

  it('never runs a tight resubscribe loop: a camera refusing subscriptions sees a growing backoff', async () => {
    r = await rig([{ id: 'cam-e' }], { tuning: { channelFailuresBeforeLost: 2 } });
    const cam = r.farm.camera('cam-e');
    await parked(r.farm, 'cam-e');
    cam.faults.eventsDown = true;
    cam.dropSubscriptions('fault');
    // Over 10 minutes of a dead events service, jump from one backoff to the next and count the attempts.
    const creates = () => cam.stats.byOperation.CreatePullPointSubscription ?? 0;
    const before = creates();
    const session = r.driver.session('cam-e')!;
    const waits: number[] = [];
    const start = r.clock.monotonic();
    while (r.clock.monotonic() - start < 10 * 60_000) {
      await waiting(r, 'cam-e', 'backoff');
      const wait = session.waiting!.until - r.clock.monotonic();
      waits.push(wait);
      r.clock.advance(wait);
    }
    const attempts = creates() - before;
    // Backoff 1, 2, 4, ... s, capped at 150–300 s (jitter at its lower bound here): 9 or 10 tries in 10 minutes.
    expect(attempts).toBeGreaterThanOrEqual(8);
    expect(attempts).toBeLessThanOrEqual(11);
    expect(waits.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(Math.max(...waits)).toBe(150_000);
  });
});
