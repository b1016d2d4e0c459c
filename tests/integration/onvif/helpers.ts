import { parseConfig } from '../../../config/load.ts';
import type { SiteConfig } from '../../../config/schema.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import type { AppendResult, EmitOptions, EventSink, Reject } from '../../../gateway/core/driver.ts';
import type { DeviceEvent, EventKind } from '../../../gateway/core/events.ts';
import type { SubscriptionMemory } from '../../../gateway/core/subscriptions.ts';
import { OnvifDriver } from '../../../device-drivers/onvif/driver.ts';
import type { WaitReason } from '../../../device-drivers/onvif/session.ts';
import type { OnvifTuning } from '../../../device-drivers/onvif/tuning.ts';
import { startCameras, type CameraFarm, type CameraSpec } from '../../../simulators/onvif-camera/index.ts';
import { silentLog } from '../../helpers/store.ts';

/** A site with the given cameras (loopback demo site, so plain passwords are fine). */
export function cameraSite(cams: { id: string; port: number; username?: string; password?: string; ptz?: boolean; eventsEnabled?: boolean }[]): SiteConfig {
  const r = parseConfig({
    demo: true,
    site: { boxId: 'sw-320602-011', name: '摄像机测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
    grids: [{ code: '320602001001-01', name: '一网格' }],
    devices: cams.map((c) => ({
      id: c.id,
      kind: 'onvif_camera',
      name: `${c.id} 监控点`,
      grid: '320602001001-01',
      place: { point: 'gate' },
      host: '127.0.0.1',
      port: c.port,
      username: c.username ?? 'admin',
      password: c.password ?? 'admin-demo',
      ptz: c.ptz ?? false,
      eventsEnabled: c.eventsEnabled ?? true,
    })),
    panel: { host: '127.0.0.1', port: 8080 },
    broker: { host: '127.0.0.1', port: 1883 },
  });
  if (!r.ok) throw new Error(`test site invalid: ${JSON.stringify(r.problems)}`);
  return r.config;
}

/** An EventSink that records; `hold()` makes emits wait until `release()` (a slow commit). */
export class RecordingSink implements EventSink {
  events: DeviceEvent[] = [];
  rejects: Reject[] = [];
  emitsStarted = 0;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  /** The next n emits fail (a store that is busy or closing). */
  failNext = 0;

  async emit(e: DeviceEvent, _opts?: EmitOptions): Promise<AppendResult> {
    this.emitsStarted++;
    if (this.gate) await this.gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('the store is closing: this write was not accepted');
    }
    this.events.push(e);
    return { stored: true, seq: this.events.length, id: `e${this.events.length}` };
  }

  reject(r: Reject): void {
    this.rejects.push(r);
  }

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }

  release(): void {
    this.open?.();
    this.gate = null;
  }

  of<K extends EventKind>(kind: K, deviceId?: string): Extract<DeviceEvent, { kind: K }>[] {
    return this.events.filter((e) => e.kind === kind && (deviceId === undefined || e.deviceId === deviceId)) as Extract<DeviceEvent, { kind: K }>[];
  }
}

/** Wait for I/O to bring a condition about (real time, bounded): never used to let timing logic happen. */
export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** Let pending I/O run for a moment (for "nothing else happens" checks). */
export function settle(ms = 60): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Rig {
  clock: FakeClock;
  farm: CameraFarm;
  sink: RecordingSink;
  driver: OnvifDriver;
  stop(): Promise<void>;
}

export const TEST_TUNING: Partial<OnvifTuning> = { startSpreadMs: 0 };

/** Cameras and the driver on one fake clock; the driver starts once the cameras listen. */
export async function rig(
  specs: (Partial<CameraSpec> & { id: string })[],
  o: { tuning?: Partial<OnvifTuning>; driverPassword?: string; offlineDebounceSeconds?: number; start?: boolean; subscriptions?: SubscriptionMemory } = {},
): Promise<Rig> {
  const clock = new FakeClock(Date.now());
  const farm = await startCameras({
    cameras: specs.map((s) => ({ port: 0, username: 'admin', password: 'admin-demo', ...s })),
    clock,
  });
  const sink = new RecordingSink();
  const config = cameraSite(farm.cameras.map((c) => ({ id: c.id, port: c.port, ptz: c.spec.ptz ?? false, password: o.driverPassword ?? 'admin-demo' })));
  const driver = new OnvifDriver({
    sink,
    clock,
    log: silentLog,
    devices: config.devices,
    offlineDebounceSeconds: o.offlineDebounceSeconds ?? 60,
    tuning: { ...TEST_TUNING, ...o.tuning },
    random: () => 0, // backoff at its lower bound: base·2^(n−1)·0.5
    ...(o.subscriptions ? { subscriptions: o.subscriptions } : {}),
  });
  if (o.start !== false) await driver.start();
  return {
    clock,
    farm,
    sink,
    driver,
    async stop() {
      await driver.stop();
      await farm.stop();
    },
  };
}

/** The camera's current subscription (the one the driver holds), if any. */
export function subOf(farm: CameraFarm, id: string) {
  const subs = [...farm.camera(id).subscriptions.values()];
  return subs[subs.length - 1];
}

/** Wait until the driver has a PullMessages parked at the camera (its steady state). */
export async function parked(farm: CameraFarm, id: string, what = 'a PullMessages waiting at the camera', timeoutMs?: number): Promise<void> {
  await until(
    `${id}: ${what}`,
    () => {
      const s = subOf(farm, id);
      return s !== undefined && s.pending !== null && !s.zombie;
    },
    timeoutMs,
  );
}

/** Advance the fake clock in steps, letting I/O run between them until `ready` holds again. */
export async function advance(clock: FakeClock, totalMs: number, stepMs: number, ready: () => Promise<void>): Promise<void> {
  for (let done = 0; done < totalMs; done += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - done));
    await ready();
  }
}

/** Wait until the camera's session sleeps for this reason (so advancing the clock wakes it). */
export async function waiting(r: Rig, id: string, reason: WaitReason): Promise<void> {
  await until(`${id}: session waiting (${reason})`, () => r.driver.session(id)?.waiting?.reason === reason);
}
