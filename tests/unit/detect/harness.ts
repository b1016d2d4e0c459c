import { parseConfig } from '../../../config/load.ts';
import type { SiteConfig } from '../../../config/schema.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import type { Command, CommandOutcome } from '../../../gateway/core/command.ts';
import type { DeviceHealth, Driver } from '../../../gateway/core/driver.ts';
import type { DeviceEvent, EventKind, StoredEvent } from '../../../gateway/core/events.ts';
import { Commands } from '../../../gateway/commands.ts';
import { Detection } from '../../../gateway/detect/detection.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { openStore, silentLog, tempDir } from '../../helpers/store.ts';

export const G1 = '320602001001-01';
export const G2 = '320602001001-02';
export const G3 = '320602001001-03';

/** 2026-11-21 10:00 in Asia/Shanghai (UTC+8): day time. */
export const DAY_START = Date.UTC(2026, 10, 21, 2, 0, 0);
/** 2026-11-21 23:00 in Asia/Shanghai: inside the default night schedule (22:00–06:00). */
export const NIGHT_START = Date.UTC(2026, 10, 21, 15, 0, 0);

const cam = (id: string, grid: string, place: Record<string, unknown>, port: number, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'onvif_camera',
  name: `摄像机 ${id}`,
  grid,
  place,
  host: '127.0.0.1',
  port,
  username: 'admin',
  password: 'admin-demo',
  ...extra,
});
const mqtt = (id: string, kind: string, name: string, grid: string, place: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id,
  kind,
  name,
  grid,
  place,
  password: `${id}-demo`,
  ...extra,
});

/** A small estate for detection tests: doors linked to cameras, a panel with four zone types, smoke sensors in two buildings, a siren. */
export function detectSite(rules: Record<string, unknown> = {}, devicesExtra: Record<string, unknown>[] = []): SiteConfig {
  const r = parseConfig({
    demo: true,
    site: { boxId: 'sw-320602-077', name: '检测小区', divisionCode: '320602001001', kind: 'urban_estate', timezone: 'Asia/Shanghai' },
    grids: [
      { code: G1, name: '一网格' },
      { code: G2, name: '二网格' },
      { code: G3, name: '三网格' },
    ],
    devices: [
      cam('cam-b3', G1, { building: '3栋', point: 'entrance' }, 18201),
      cam('cam-b5', G2, { building: '5栋', point: 'entrance' }, 18202),
      cam('cam-perim-1', G3, { point: 'perimeter' }, 18203),
      cam('cam-perim-2', G3, { point: 'perimeter' }, 18204),
      cam('cam-perim-3', G3, { point: 'perimeter' }, 18205),
      cam('cam-square', G3, { point: 'public_area' }, 18206, { ptz: true }),
      mqtt(
        'door-b3',
        'access_controller',
        '3栋1单元门',
        G1,
        { building: '3栋', unit: '1单元', point: 'entrance' },
        { door: { name: '3栋1单元门' }, linkedCameras: ['cam-b3'] },
      ),
      mqtt(
        'door-b5',
        'access_controller',
        '5栋1单元门',
        G2,
        { building: '5栋', unit: '1单元', point: 'entrance' },
        { door: { name: '5栋1单元门' }, linkedCameras: ['cam-b5'] },
      ),
      mqtt(
        'panel-1',
        'alarm_panel',
        '报警主机',
        G3,
        { point: 'public_area' },
        {
          zones: [
            { number: 1, name: '北围墙', type: 'perimeter', linkedCameras: ['cam-perim-1'] },
            { number: 2, name: '配电房', type: 'intrusion' },
            { number: 3, name: '消防控制室', type: 'fire' },
            { number: 4, name: '门岗紧急按钮', type: 'panic' },
          ],
        },
      ),
      mqtt('smoke-b3-1', 'sensor', '3栋一楼烟感', G1, { building: '3栋', point: 'public_area' }, { sensorType: 'smoke' }),
      mqtt('smoke-b3-2', 'sensor', '3栋二楼烟感', G1, { building: '3栋', point: 'public_area' }, { sensorType: 'smoke' }),
      mqtt('smoke-b5-1', 'sensor', '5栋烟感', G2, { building: '5栋', point: 'public_area' }, { sensorType: 'smoke' }),
      mqtt('sos-1', 'sos_button', '一键报警 3栋501', G1, { building: '3栋', point: 'entrance' }, { household: '3栋1单元501' }),
      mqtt('siren-1', 'siren', '广场声光报警器', G3, { point: 'public_area' }, { maxDurationSeconds: 120 }),
      mqtt('speaker-1', 'loudspeaker', '广场广播', G3, { point: 'public_area' }, { clips: [{ id: 'no-climbing', name: '请勿翻越围墙' }] }),
      ...devicesExtra,
    ],
    panel: { host: '127.0.0.1' },
    broker: { host: '127.0.0.1' },
    rules,
  });
  if (!r.ok) throw new Error(`detect test site invalid:\n${r.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  return r.config;
}

/** A driver for every device of the test site: records commands, answers as told. */
export class FakeDriver implements Driver {
  readonly name = 'fake';
  readonly sent: Command[] = [];
  readonly away = new Set<string>();
  private n = 0;
  outcome: (cmd: Command) => CommandOutcome = (cmd) =>
    cmd.action === 'snapshot' ? { status: 'succeeded', snapshotId: `snap-${++this.n}` } : { status: 'succeeded' };
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  health(): DeviceHealth[] {
    return [];
  }
  async execute(cmd: Command): Promise<CommandOutcome> {
    this.sent.push(cmd);
    return this.outcome(cmd);
  }
}

export interface Harness {
  clock: FakeClock;
  store: Store;
  det: Detection;
  driver: FakeDriver;
  config: SiteConfig;
  /** Store an event (as a driver would) and let detection handle it. */
  emit(kind: EventKind, deviceId: string, over?: Partial<DeviceEvent> & { attrs?: Record<string, unknown> }): Promise<StoredEvent>;
  /** Wait for every alarm write, deadline and linkage step to finish. */
  settle(): Promise<void>;
  /** Move the clock in steps (default 1 s), letting timer-started work finish between steps. */
  advance(ms: number, step?: number): Promise<void>;
  /** Stop detection and the store cleanly, reopen both on the same folder (a reboot). */
  restart(opts?: { offFor?: number; cursor?: number }): Promise<void>;
  /** Events stored from now on are not seen by detection (the moment of a power cut between commit and rules). */
  detach(): void;
  close(): Promise<void>;
}

export async function harness(opts: { rules?: Record<string, unknown>; start?: number; config?: SiteConfig } = {}): Promise<Harness> {
  const t = tempDir('shouwang-detect-');
  const clock = new FakeClock(opts.start ?? DAY_START);
  const config = opts.config ?? detectSite(opts.rules);
  const driver = new FakeDriver();
  const grids = new Map(config.devices.map((d) => [d.id, d.grid]));
  const h = {} as Harness;
  const ref: { det?: Detection } = {};
  const open = async () => {
    const store = await openStore(t.dir, { onStored: (e) => ref.det?.handle(e) }, clock);
    const commands = new Commands({ store, driverFor: () => driver, clock, log: silentLog });
    const det = new Detection({ config, store, commands, clock, log: silentLog, reachable: (id) => (driver.away.has(id) ? false : null) });
    ref.det = det;
    await det.start();
    Object.assign(h, { store, det });
  };
  await open();
  Object.assign(h, {
    clock,
    driver,
    config,
    async emit(kind: EventKind, deviceId: string, over: Partial<DeviceEvent> & { attrs?: Record<string, unknown> } = {}) {
      const now = clock.now();
      const e = { kind, deviceId, active: true, deviceTime: now, receivedAt: now, clockOffsetMs: 0, clockTrusted: true, attrs: {}, ...over } as DeviceEvent;
      const r = await h.store.events.append(e, { grid: grids.get(deviceId) ?? null });
      if (!r.stored) throw new Error(`not stored: ${JSON.stringify(r)}`);
      return (await h.store.events.byId(r.id))!;
    },
    async settle() {
      // timers already due (0 ms) would fire at once on a real clock
      h.clock.advance(0);
      await h.det.idle();
      await h.store.writer.flush();
      h.clock.advance(0);
      await h.det.idle();
    },
    async advance(ms: number, step = 1000) {
      // step so that work started by one timer (awaits) can schedule the next before time moves on
      for (let left = ms; left > 0; left -= step) {
        clock.advance(Math.min(step, left));
        await h.settle();
      }
    },
    detach() {
      ref.det = undefined;
    },
    async restart(o: { offFor?: number; cursor?: number } = {}) {
      await h.det.stop();
      if (o.cursor !== undefined) {
        // as if the box died before detection had written how far it got
        await h.store.writer.submit({
          sync: 'full',
          build: () => ({ statements: [{ sql: `UPDATE detect_state SET value = ? WHERE key = 'cursor'`, params: [String(o.cursor)] }], result: undefined }),
        });
      }
      await h.store.close();
      if (o.offFor) clock.advance(o.offFor);
      await open();
    },
    async close() {
      await h.det.stop();
      await h.store.close();
      t.cleanup();
    },
  });
  return h;
}

export const zone = (n: number, type: 'perimeter' | 'intrusion' | 'fire' | 'panic') => ({ attrs: { zone: n, zoneType: type }, source: String(n) });
