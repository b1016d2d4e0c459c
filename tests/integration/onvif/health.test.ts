import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../../../simulators/onvif-camera/index.ts';
import { parked, rig, settle, until, waiting, type Rig } from './helpers.ts';

/** Two facts per camera: reachable (device service answers) and event channel alive — and the events that report them. */
describe('camera health', { timeout: 30_000 }, () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.stop();
    r = null;
  });

  it('raises event_channel_lost when the event stream dies while the camera stays reachable, and its recovery', async () => {
    r = await rig([{ id: 'cam-ev' }], { offlineDebounceSeconds: 30 });
    const cam = r.farm.camera('cam-ev');
    await parked(r.farm, 'cam-ev');
    cam.faults.eventsDown = true; // the events service answers 503, the device service works
    r.clock.advance(60_000); // the parked pull ends; the next one gets 503
    await waiting(r, 'cam-ev', 'backoff');
    expect(r.sink.of('event_channel_lost')).toHaveLength(0); // one failure is a blip
    r.clock.advance(1000);
    await until('second failure', () => r!.sink.of('event_channel_lost').length === 1);
    const lost = r.sink.of('event_channel_lost')[0]!;
    expect(lost.active).toBe(true);
    expect(lost.attrs.reason).toMatch(/503/);
    expect(r.driver.health()[0]).toMatchObject({ reachable: true, eventChannel: 'lost' });
    // Minutes later, still reachable: never device_offline.
    for (let i = 0; i < 5; i++) {
      await waiting(r, 'cam-ev', 'backoff');
      r.clock.advance(60_000);
      await settle(5);
    }
    expect(r.sink.of('device_offline')).toHaveLength(0);
    expect(r.sink.of('event_channel_lost')).toHaveLength(1);

    cam.faults.eventsDown = false;
    await waiting(r, 'cam-ev', 'backoff');
    r.clock.advance(5 * 60_000);
    await parked(r.farm, 'cam-ev');
    await until('recovery event', () => r!.sink.of('event_channel_lost').length === 2);
    expect(r.sink.of('event_channel_lost')[1]!.active).toBe(false);
    expect(r.driver.health()[0]).toMatchObject({ reachable: true, eventChannel: 'alive' });
    cam.emit({ type: 'tamper', active: true });
    await until('events flow again', () => r!.sink.of('tamper').some((e) => e.active));
  });

  it('raises device_offline only after the debounce when the camera stops answering, and its recovery on the same subscription', async () => {
    r = await rig([{ id: 'cam-off' }], { offlineDebounceSeconds: 60 });
    const cam = r.farm.camera('cam-off');
    await parked(r.farm, 'cam-off');
    const sub = [...cam.subscriptions.keys()][0];
    await r.farm.setReachable('cam-off', false); // power cut: connections reset, port closed
    await waiting(r, 'cam-off', 'unreachable');
    expect(r.driver.health()[0]).toMatchObject({ reachable: false, eventChannel: 'lost' });
    r.clock.advance(59_000);
    await settle();
    expect(r.sink.of('device_offline')).toHaveLength(0);
    r.clock.advance(2000);
    await until('device_offline', () => r!.sink.of('device_offline').length === 1);
    expect(r.sink.of('device_offline')[0]).toMatchObject({ active: true, attrs: { reason: expect.stringMatching(/cannot reach|ECONN/) } });
    expect(r.sink.of('event_channel_lost')).toHaveLength(0); // explained by the camera being offline

    await waiting(r, 'cam-off', 'unreachable'); // between two probes
    await r.farm.setReachable('cam-off', true);
    r.clock.advance(60_000); // the probe interval while unreachable is capped at a minute
    await until('back online', () => r!.sink.of('device_offline').length === 2);
    expect(r.sink.of('device_offline')[1]!.active).toBe(false);
    await parked(r.farm, 'cam-off');
    expect([...cam.subscriptions.keys()]).toEqual([sub]); // a network blip does not cost a new subscription
    expect(cam.stats.creates).toBe(1);
  });

  it('does not report a camera that drops out for less than the debounce', async () => {
    r = await rig([{ id: 'cam-flap' }], { offlineDebounceSeconds: 60 });
    await parked(r.farm, 'cam-flap');
    await r.farm.setReachable('cam-flap', false);
    await waiting(r, 'cam-flap', 'unreachable');
    r.clock.advance(20_000);
    await waiting(r, 'cam-flap', 'unreachable'); // the probe failed, next one later
    await r.farm.setReachable('cam-flap', true);
    r.clock.advance(20_000);
    await parked(r.farm, 'cam-flap');
    r.clock.advance(60_000);
    await parked(r.farm, 'cam-flap');
    expect(r.sink.of('device_offline')).toHaveLength(0);
    expect(r.driver.health()[0]).toMatchObject({ reachable: true, eventChannel: 'alive' });
  });

  it('reports a camera that never answers after the debounce from start', async () => {
    r = await rig([{ id: 'cam-never' }], { offlineDebounceSeconds: 60, start: false });
    await r.farm.setReachable('cam-never', false);
    await r.driver.start();
    await waiting(r, 'cam-never', 'unreachable');
    r.clock.advance(61_000);
    await until('device_offline', () => r!.sink.of('device_offline').length === 1);
  });

  it('respects a camera’s subscription cap: one refusal, then waits for leaked subscriptions to expire', async () => {
    r = await rig([{ id: 'cam-cap' }], { start: false });
    const cam = r.farm.camera('cam-cap');
    cam.faults.maxSubscriptions = 1;
    const leaked = cam.createSubscription(10 * 60_000) as Subscription; // left behind by an earlier client or a crashed box
    await r.driver.start();
    await waiting(r, 'cam-cap', 'subscription-cap');
    expect(cam.stats.createsRefusedCap).toBe(1);
    expect(r.driver.health()[0]!.detail).toMatch(/maximum number of subscriptions/);
    for (let m = 0; m < 9; m++) {
      r.clock.advance(60_000);
      await settle(2);
    }
    expect(cam.stats.createsRefusedCap).toBe(1); // no hammering while the slot is taken
    r.clock.advance(60_000); // the leaked one expires, the wait ends
    await parked(r.farm, 'cam-cap');
    expect(cam.subscriptions.has(leaked.id)).toBe(false);
    expect(cam.stats.createsRefusedCap).toBe(1);
    expect(r.driver.activeSubscriptions()).toBe(1);
  });

  it('works with a camera that answers slowly, and counts one slower than the request timeout as unreachable', async () => {
    r = await rig([{ id: 'cam-slow' }], { offlineDebounceSeconds: 60, start: false });
    const cam = r.farm.camera('cam-slow');
    cam.faults.slowMs = 2000; // every answer 2 s late
    await r.driver.start();
    for (let i = 0; i < 20 && !(r.driver.session('cam-slow')!.subscribed && r.sink.events.length === 4); i++) {
      await settle(15);
      r.clock.advance(2000);
    }
    expect(r.sink.events.filter((e) => e.initial)).toHaveLength(4);
    expect(r.driver.health()[0]).toMatchObject({ reachable: true, eventChannel: 'alive' });

    cam.faults.slowMs = 30_000; // slower than the 10 s request timeout
    for (let i = 0; i < 90 && r.sink.of('device_offline').length === 0; i++) {
      await settle(5);
      r.clock.advance(2000);
    }
    expect(r.sink.of('device_offline')).toHaveLength(1);
    expect(r.sink.of('device_offline')[0]!.attrs.reason).toMatch(/timeout|no answer/);
    expect(cam.stats.concurrentPulls).toBe(0);
  });
});
