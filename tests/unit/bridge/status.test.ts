import { afterEach, describe, expect, it } from 'vitest';
import { DeviceStatusReporter } from '../../../gateway/device-status.ts';
import { Heartbeat } from '../../../cloud-bridge/push/heartbeat.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import type { DeviceInfo } from '../../../gateway/core/county.ts';
import type { DeviceHealth } from '../../../gateway/core/driver.ts';
import { CountyStores } from '../../../gateway/store/county.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { inService, serviceShare } from '../../../gateway/core/uptime.ts';
import { Db } from '../../../gateway/store/db.ts';
import { PanelQueries } from '../../../gateway/store/panel-queries.ts';
import { openStore, silentLog, tempDir } from '../../helpers/store.ts';

const HOUR = 3_600_000;
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function open(dir: string, clock: FakeClock): Promise<{ store: Store; county: CountyStores }> {
  const store = await openStore(dir, {}, clock);
  const county = await CountyStores.open(store, clock);
  cleanups.push(
    () => store.close(),
    () => county.close(),
  );
  return { store, county };
}

const dev = (id: string): DeviceInfo => ({
  id,
  name: id,
  kind: 'access_controller',
  grid: 'g1',
  place: { point: 'entrance' },
  gbId: null,
  enabled: true,
  eventsEnabled: null,
});

/** The device-status component over a store, looking every 5 s (tests call `look()` themselves). */
const statusReporter = (county: CountyStores, clock: FakeClock, health: () => DeviceHealth[], devices: () => DeviceInfo[], tellCounty: boolean) =>
  new DeviceStatusReporter({ port: county.push, health: { health }, devices, clock, log: silentLog, everyMs: 5000, tellCounty });

describe('device status (fake clock)', () => {
  it('reports changes as device.status, keeps transitions for uptime, and does not re-announce after a restart', async () => {
    const t = tempDir('shouwang-status-');
    cleanups.push(() => t.cleanup());
    const clock = new FakeClock();
    const { store, county } = await open(t.dir, clock);
    const health = new Map<string, DeviceHealth>();
    const set = (id: string, reachable: boolean | null) => health.set(id, { deviceId: id, reachable, eventChannel: 'n/a', lastSeen: clock.now() });
    const reporter = () =>
      statusReporter(
        county,
        clock,
        () => [...health.values()],
        () => [dev('door-1'), dev('door-2')],
        true,
      );
    const statusEntries = async () =>
      (await store.outbox.next(1000)).filter((e) => e.type === 'device.status').map((e) => e.body as { deviceId: string; online: boolean });

    let r = reporter();
    await r.start();
    set('door-1', true);
    set('door-2', false);
    expect(await r.look()).toBe(2);
    expect(await statusEntries()).toEqual([
      expect.objectContaining({ deviceId: 'door-1', online: true }),
      expect.objectContaining({ deviceId: 'door-2', online: false }),
    ]);
    expect(await r.look()).toBe(0); // nothing changed

    clock.advance(6 * HOUR);
    set('door-1', false);
    await r.look();
    clock.advance(6 * HOUR);
    set('door-1', true);
    await r.look();
    clock.advance(12 * HOUR);
    const up = await county.port().uptime(['door-1', 'door-2', 'door-3']);
    expect(up.get('door-1')).toEqual({ last24h: 0.75, last30d: 0.75 });
    expect(up.get('door-2')).toEqual({ last24h: 0, last30d: 0 });
    expect(up.get('door-3')).toEqual({ last24h: null, last30d: null });
    await r.stop();
    await store.outbox.ack((await store.outbox.next(1000)).map((e) => e.id));

    // The box restarts: states are unknown until the first look; the county hears only what differs from what it was told.
    r = reporter();
    await r.start();
    set('door-2', true);
    expect(await r.look()).toBe(1);
    expect(await statusEntries()).toEqual([expect.objectContaining({ deviceId: 'door-2', online: true })]);
    clock.advance(HOUR);
    // time while the box was restarting counts neither way
    const after = await county.port().uptime(['door-1']);
    expect(after.get('door-1')!.last24h).toBeCloseTo(18 / 24, 2);
    await r.stop();
  });

  it('reports a device added while the box runs from its first look, and stops looking at a removed one', async () => {
    const t = tempDir('shouwang-status-');
    cleanups.push(() => t.cleanup());
    const clock = new FakeClock();
    const { store, county } = await open(t.dir, clock);
    let devices = [dev('door-1')];
    const health = new Map<string, DeviceHealth>([['door-1', { deviceId: 'door-1', reachable: true, eventChannel: 'n/a', lastSeen: clock.now() }]]);
    const r = statusReporter(
      county,
      clock,
      () => [...health.values()],
      () => devices,
      true,
    );
    await r.start();
    expect(await r.look()).toBe(1);
    devices = [dev('door-1'), dev('door-9')]; // the installer applied a config with a new door
    health.set('door-9', { deviceId: 'door-9', reachable: true, eventChannel: 'n/a', lastSeen: clock.now() });
    expect(await r.look()).toBe(1);
    devices = [dev('door-9')]; // and removed door-1
    health.set('door-1', { deviceId: 'door-1', reachable: false, eventChannel: 'n/a', lastSeen: clock.now() });
    expect(await r.look()).toBe(0);
    const sent = (await store.outbox.next(1000)).filter((e) => e.type === 'device.status').map((e) => (e.body as { deviceId: string }).deviceId);
    expect(sent).toEqual(['door-1', 'door-9']);
    await r.stop();
  });
});

describe('heartbeat (fake clock)', () => {
  it('says queue depth and oldest age per lane, loss since the previous heartbeat, uptime and version, every interval', async () => {
    const t = tempDir('shouwang-heartbeat-');
    cleanups.push(() => t.cleanup());
    const clock = new FakeClock();
    const { store, county } = await open(t.dir, clock);
    await store.outbox.enqueue([{ lane: 'record', type: 'event', occurredAt: clock.now(), body: {} }]);
    const hb = new Heartbeat({ port: county.push, clock, log: silentLog, everyMs: 60_000, version: '1.2.3', startedAtMono: clock.monotonic() });
    await hb.start();
    for (let i = 0; i < 3; i++) store.budget.countShed('status');
    await new Promise((r) => setImmediate(r));
    await store.writer.flush();
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    await store.writer.flush();
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    await hb.stop();
    const beats = (await store.outbox.next(100)).filter((e) => e.type === 'box.heartbeat').map((e) => e.body as Record<string, never>);
    expect(beats).toHaveLength(3);
    expect(beats.map((b) => b.uptimeSeconds)).toEqual([0, 60, 120]);
    expect(beats[0]).toMatchObject({
      version: '1.2.3',
      lastSeq: 1,
      lanes: [
        { lane: 'alarm', depth: 0, oldestUnsentAgeSeconds: null },
        { lane: 'record', depth: 1, oldestUnsentAgeSeconds: 0 },
        { lane: 'status', depth: 0, oldestUnsentAgeSeconds: null },
      ],
    });
    expect(beats[1]).toMatchObject({ loss: { sinceLast: { shed: 3, evicted: 0 }, total: { shed: 3, evicted: 0 } } });
    expect(beats[1]!.lanes).toContainEqual({ lane: 'record', depth: 1, oldestUnsentAgeSeconds: 60 });
    expect(beats[2]).toMatchObject({ loss: { sinceLast: { shed: 0, evicted: 0 }, total: { shed: 3, evicted: 0 } } });
  });
});

describe('uptime: one record for the panel and the county', () => {
  it('is recorded on a box without a county upstream too (nothing is enqueued), and both sides read the same share from it', async () => {
    const t = tempDir('shouwang-uptime-');
    cleanups.push(() => t.cleanup());
    const clock = new FakeClock();
    const { store, county } = await open(t.dir, clock);
    let health: DeviceHealth = { deviceId: 'cam-1', reachable: null, eventChannel: 'n/a', lastSeen: null };
    const r = statusReporter(
      county,
      clock,
      () => [health],
      () => [{ ...dev('cam-1'), kind: 'onvif_camera', eventsEnabled: true }],
      false,
    );
    await r.start();
    const start = clock.now();
    // In service at first; its event channel lost 6..9 h; offline 12..15 h; the window ends at 24 h.
    const history: [number, boolean, 'alive' | 'lost'][] = [
      [0, true, 'alive'],
      [6, true, 'lost'],
      [9, true, 'alive'],
      [12, false, 'alive'],
      [15, true, 'alive'],
    ];
    for (const [h, reachable, eventChannel] of history) {
      clock.advance(start + h * HOUR - clock.now());
      health = { deviceId: 'cam-1', reachable, eventChannel, lastSeen: clock.now() };
      expect(await r.look()).toBe(0); // recorded, told to nobody
    }
    await r.stop();
    clock.advance(start + 24 * HOUR - clock.now());
    const now = clock.now();
    expect((await store.outbox.next(1000)).filter((e) => e.type === 'device.status')).toEqual([]);
    const countySide = (await county.port().uptime(['cam-1'])).get('cam-1')!.last24h;
    const reader = await Db.open(store.file, { readonly: true });
    cleanups.push(() => reader.close());
    const panelSide = serviceShare((await new PanelQueries(reader).serviceChanges(now - 24 * HOUR, ['cam-1'])).get('cam-1')!, now - 24 * HOUR, now).ratio;
    expect(countySide).toBe(0.75);
    expect(panelSide).toBe(0.75);
  });

  it('leaves unknown time out of the share and says null when nothing was observed', () => {
    expect(serviceShare([], 0, 10).ratio).toBeNull();
    expect(serviceShare([{ at: 0, inService: null }], 0, 10).ratio).toBeNull();
    // Up 2, unknown 4 (the box was off), down 2, up 2: 4 of 8 observed.
    const r = serviceShare(
      [
        { at: 0, inService: true },
        { at: 2, inService: null },
        { at: 6, inService: false },
        { at: 8, inService: true },
      ],
      0,
      10,
    );
    expect(r).toEqual({ upMs: 4, downMs: 2, ratio: 4 / 6 });
    expect(inService(true, 'lost')).toBe(false);
    expect(inService(true, 'n/a')).toBe(true);
    expect(inService(null, 'alive')).toBeNull();
  });
});
