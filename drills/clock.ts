/**
 * clock: devices whose clocks are an hour fast or slow, and the box's own
 * wall clock stepping ±1 h (an NTP correction after a week offline) while
 * events flow. Events keep their arrival order (seq), a device's events stay
 * in the order it sent them, times off by more than the trust window are
 * flagged (clockTrusted false, offset kept), and no timer fires because of a
 * wall-clock step (offline debounce and silence run on monotonic time).
 *
 * The gateway runs in this process here, so the drill can step its clock.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../config/load.ts';
import { CLOCK_TRUST_MS } from '../device-drivers/mqtt/payload.ts';
import { App } from '../gateway/app.ts';
import { systemClock, type Clock } from '../gateway/core/clock.ts';
import { check, connectAll, Device, doors, GRID, password, sleep, tempDir, withDb, type Drill } from './_harness.ts';

const HOUR = 3_600_000;

/** The system clock with a wall-time step the drill controls; monotonic time and timers are untouched. */
class SteppedClock implements Clock {
  step = 0;
  now = () => Date.now() + this.step;
  monotonic = () => systemClock.monotonic();
  setTimer = systemClock.setTimer;
}

export const drill: Drill = {
  summary: 'device clocks off by ±1 h and the box clock stepping: consistent order, flagged times, no spurious timers',
  async run({ quick, say }) {
    const t = tempDir('shouwang-drill-clock-');
    const clock = new SteppedClock();
    const specs = doors(4); // 0: +1 h, 1: −1 h, 2: on time, 3: sends no time
    const skew = [HOUR, -HOUR, 0, null];
    const r = parseConfig({
      demo: true,
      site: { boxId: 'sw-320602-098', name: '演练小区', divisionCode: '320602001001', kind: 'urban_estate' },
      grids: [{ code: GRID, name: '一网格' }],
      devices: specs.map((s) => ({
        id: s.id,
        kind: 'access_controller',
        name: s.id,
        grid: GRID,
        place: { point: 'entrance' },
        password: password(s.id),
        door: { name: s.id },
      })),
      panel: { host: '127.0.0.1', port: 8080 },
      broker: { host: '127.0.0.1', port: 1883 },
      rules: { offlineDebounceSeconds: 5 },
    });
    if (!r.ok) throw new Error(`drill site invalid: ${JSON.stringify(r.problems)}`);
    const data = join(t.dir, 'data');
    const app = new App({ config: r.config, dataDir: data, log: pino({ level: 'silent' }), version: 'drill', httpPort: 0, brokerPort: 0, clock });
    try {
      await app.start();
      const url = `mqtt://127.0.0.1:${app.broker.addresses[0]!.port}`;
      const devices = specs.map((s) => new Device(s.id, url));
      await connectAll(devices);
      // Each device stamps its events with its own (wrong) clock.
      const payload = (i: number) => (id: string) => ({
        id,
        type: 'access',
        result: 'granted',
        method: 'card',
        ...(skew[i] === null ? {} : { ts: Date.now() + skew[i]! }),
      });
      const phases = [0, HOUR, -HOUR, 0]; // box clock: right, 1 h fast, 1 h slow, right again
      const perPhase = quick ? 1500 : 5000;
      for (const step of phases) {
        clock.step = step;
        say(`box clock stepped to ${step / HOUR} h`);
        const until = Date.now() + perPhase;
        while (Date.now() < until) {
          devices.forEach((d, i) => d.publish(payload(i)));
          await sleep(20);
        }
      }
      await sleep(1000);
      await Promise.all(devices.map((d) => d.end()));
      await app.stop();

      const rows = await withDb(data, (db) =>
        db.all<{
          seq: number;
          device_id: string;
          kind: string;
          dedupe_key: string | null;
          device_time: number | null;
          received_at: number;
          clock_offset_ms: number | null;
          clock_trusted: number;
        }>('SELECT seq, device_id, kind, dedupe_key, device_time, received_at, clock_offset_ms, clock_trusted FROM events ORDER BY seq'),
      );
      const access = rows.filter((e) => e.kind === 'access_granted');
      const acked = devices.reduce((n, d) => n + d.acked.size, 0);
      // A device's events, read in seq order, carry its own counter in order.
      const outOfOrder = specs.filter((s) => {
        const n = access.filter((e) => e.device_id === s.id).map((e) => Number(e.dedupe_key!.split('-').at(-1)));
        return n.some((v, i) => i > 0 && v <= n[i - 1]!);
      });
      const byDevice = (i: number) => access.filter((e) => e.device_id === specs[i]!.id);
      // Every event: the offset is device time minus box time, and trusted exactly when within the trust window.
      const inconsistent = access.filter((e) =>
        e.device_time === null
          ? e.clock_trusted !== 0
          : e.clock_offset_ms !== e.device_time - e.received_at || (e.clock_trusted === 1) !== Math.abs(e.clock_offset_ms) <= CLOCK_TRUST_MS,
      );
      /** Hours of offset seen for a device, with how many events were trusted at each. */
      const offsets = (i: number) => {
        const m = new Map<number, { n: number; trusted: number }>();
        for (const e of byDevice(i)) {
          if (e.clock_offset_ms === null) continue;
          const h = Math.round(e.clock_offset_ms / HOUR);
          const o = m.get(h) ?? { n: 0, trusted: 0 };
          o.n++;
          o.trusted += e.clock_trusted;
          m.set(h, o);
        }
        return m;
      };
      const fast = offsets(0);
      const slow = offsets(1);
      const onTime = offsets(2);
      const noTime = byDevice(3).every((e) => e.clock_trusted === 0 && e.device_time === null);
      const flaggedAt = (m: Map<number, { n: number; trusted: number }>, h: number) => (m.get(h)?.n ?? 0) > 0 && m.get(h)!.trusted === 0;
      const onTimeTrusted = onTime.get(0)?.trusted ?? 0;
      const onTimeFlagged = (onTime.get(1)?.n ?? 0) + (onTime.get(-1)?.n ?? 0);
      const spurious = rows.filter((e) => e.kind === 'device_offline' || e.kind === 'device_silent').length;
      return {
        figures: {
          acked,
          stored: access.length,
          on_time_trusted: onTimeTrusted,
          on_time_flagged_while_box_stepped: onTimeFlagged,
          spurious_offline_events: spurious,
        },
        checks: [
          check('every acknowledged event is stored', access.length === acked, `${access.length}/${acked}`),
          check("each device's events keep the order it sent them", outOfOrder.length === 0, outOfOrder.map((s) => s.id).join(', ')),
          check('offsets are device time minus box time, trusted exactly within the window', inconsistent.length === 0, `${inconsistent.length} inconsistent`),
          check('a clock an hour fast is flagged with its offset (+1 h; +2 h while the box is an hour slow)', flaggedAt(fast, 1) && flaggedAt(fast, 2)),
          check('a clock an hour slow is flagged with its offset (−1 h; −2 h while the box is an hour fast)', flaggedAt(slow, -1) && flaggedAt(slow, -2)),
          check('a device that sends no time is never trusted', noTime),
          check('an on-time device is trusted while the box clock is right and flagged while it is stepped', onTimeTrusted > 0 && onTimeFlagged > 0),
          check('no device_offline / device_silent from a wall-clock step', spurious === 0, `${spurious}`),
        ],
      };
    } finally {
      await app.stop().catch(() => {});
      t.cleanup();
    }
  },
};
