/**
 * Background traffic: `realistic` (residents passing doors, heavier at 7–9 h and 17–20 h local time,
 * panels armed at night and disarmed in the morning, occasional sensor reports) or a steady
 * `{ eventsPerSecond }` spread over the devices (load).
 */
import { credential, loadEvent } from './behaviour.ts';
import type { SimDevice } from './device.ts';
import type { SimClock, SimTraffic } from './types.ts';
import { pick, Timers } from './util.ts';

export interface TrafficContext {
  devices: readonly SimDevice[];
  clock: SimClock;
  random: () => number;
  timeZone: string;
  log: (line: string) => void;
}

/** Highest steady rate accepted (events per second, all devices together). */
export const MAX_EVENTS_PER_SECOND = 20_000;
/** A device with this many unacknowledged events gets no more load until the broker catches up. */
const MAX_INFLIGHT_PER_DEVICE = 1000;
const RATE_TICK_MS = 50;
const REALISTIC_TICK_MS = 1000;

/** Passes per door per hour, by local hour 0..23: quiet nights, rush at 7–9 and 17–20. */
const DOOR_PASSES_PER_HOUR = [1, 0.5, 0.3, 0.3, 0.5, 2, 8, 30, 30, 12, 8, 8, 10, 8, 6, 6, 10, 28, 30, 25, 12, 6, 3, 1.5];

/** Local hour (fractional, 0 ≤ h < 24) of `ms` in `timeZone`. */
export function localHour(ms: number, timeZone: string): number {
  const parts = hourFormat(timeZone).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return (get('hour') % 24) + get('minute') / 60;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function hourFormat(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  return f;
}

/** Expected passes per door per hour at a fractional local hour (linear between the hourly figures). */
export function doorRate(hour: number): number {
  const h = Math.floor(hour) % 24;
  const a = DOOR_PASSES_PER_HOUR[h] ?? 1;
  const b = DOOR_PASSES_PER_HOUR[(h + 1) % 24] ?? 1;
  return a + (b - a) * (hour - Math.floor(hour));
}

export class TrafficRunner {
  readonly #ctx: TrafficContext;
  #timers = new Timers();
  #mode: SimTraffic = 'none';
  /** Resident cards per door, stable for the run (the box can tell a card came back). */
  readonly #cards = new Map<string, string[]>();
  readonly #armedTonight = new Set<string>();
  readonly #armedBySchedule = new Set<string>();
  readonly stats = { generated: 0, skipped: 0 };

  constructor(ctx: TrafficContext) {
    this.#ctx = ctx;
  }

  get mode(): SimTraffic {
    return this.#mode;
  }

  set(traffic: SimTraffic): void {
    this.#timers.close();
    this.#timers = new Timers();
    this.#mode = traffic;
    if (traffic === 'none') return;
    if (traffic === 'realistic') {
      this.#timers.every(REALISTIC_TICK_MS, () => this.#realisticTick(REALISTIC_TICK_MS / 1000));
      return;
    }
    const rate = traffic.eventsPerSecond;
    if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_EVENTS_PER_SECOND) {
      throw new Error(`eventsPerSecond must be in (0, ${MAX_EVENTS_PER_SECOND}], got ${rate}`);
    }
    let budget = 0;
    let last = performance.now();
    let next = 0;
    this.#timers.every(RATE_TICK_MS, () => {
      const now = performance.now();
      // never more than one second's worth at once, even after a stall
      budget = Math.min(budget + (rate * (now - last)) / 1000, Math.max(1, rate));
      last = now;
      const devices = this.#ctx.devices;
      while (budget >= 1) {
        budget -= 1;
        let sent = false;
        for (let tries = 0; tries < devices.length && !sent; tries++) {
          const d = devices[next % devices.length];
          next++;
          if (d && d.connected && !d.silent && d.inflight < MAX_INFLIGHT_PER_DEVICE) {
            this.stats.generated++;
            d.publishEvent(loadEvent(d.spec, this.#ctx.random)).catch(() => undefined);
            sent = true;
          }
        }
        if (!sent) this.stats.skipped++;
      }
    });
  }

  stop(): void {
    this.#timers.close();
    this.#mode = 'none';
  }

  #active(d: SimDevice): boolean {
    return d.connected && !d.silent;
  }

  #realisticTick(dtSeconds: number): void {
    const { random, clock, timeZone } = this.#ctx;
    const hour = localHour(clock.now(), timeZone);
    for (const d of this.#ctx.devices) {
      if (!this.#active(d)) continue;
      switch (d.kind) {
        case 'access_controller':
          if (random() < (doorRate(hour) * dtSeconds) / 3600) this.#pass(d);
          break;
        case 'alarm_panel':
          this.#panel(d, hour);
          break;
        case 'sensor':
          this.#sensor(d, hour, dtSeconds);
          break;
        default:
          break;
      }
    }
  }

  #emit(d: SimDevice, body: Parameters<SimDevice['publishEvent']>[0]): void {
    this.stats.generated++;
    d.publishEvent(body).catch(() => undefined);
  }

  /** A resident at a door: mostly granted by card or face, some denied; the door opens and closes. */
  #pass(d: SimDevice): void {
    const { random } = this.#ctx;
    let cards = this.#cards.get(d.id);
    if (!cards) {
      cards = Array.from({ length: 60 }, () => credential(random));
      this.#cards.set(d.id, cards);
    }
    const r = random();
    if (r < 0.07) {
      const method = random() < 0.6 ? 'card' : 'face';
      const reason = method === 'card' ? pick(['unknown_card', 'card_expired'], random) : 'not_recognised';
      this.#emit(d, { type: 'access', result: 'denied', method, credential: method === 'card' ? credential(random) : `F${credential(random)}`, reason });
      return;
    }
    const m = random();
    const method = m < 0.5 ? 'card' : m < 0.95 ? 'face' : 'qr';
    const cred = method === 'card' ? pick(cards, random) : method === 'face' ? `F${pick(cards, random)}` : `QR-${credential(random)}`;
    this.#emit(d, { type: 'access', result: 'granted', method, credential: cred });
    const heldOpen = random() < 0.01;
    if (heldOpen) this.#ctx.log(`${d.id}: a resident props the door open`);
    d.unlockDoor(3 + Math.floor(random() * 6), { heldOpen });
  }

  /** Panels arm (night) late in the evening and disarm in the morning, each once, at a random moment. */
  #panel(d: SimDevice, hour: number): void {
    const { random } = this.#ctx;
    const armed = d.state.armed;
    if (hour >= 12 && hour < 13) this.#armedTonight.delete(d.id);
    if ((hour >= 22.5 || hour < 5) && armed === 'disarmed' && !this.#armedTonight.has(d.id) && random() < 1 / 120) {
      this.#armedTonight.add(d.id);
      this.#armedBySchedule.add(d.id);
      this.#ctx.log(`${d.id}: night arming`);
      this.#emit(d, { type: 'armed', mode: 'night', user: '01' });
    } else if (hour >= 6.5 && hour < 9 && armed !== 'disarmed' && this.#armedBySchedule.has(d.id) && random() < 1 / 120) {
      this.#armedBySchedule.delete(d.id);
      this.#ctx.log(`${d.id}: morning disarming`);
      this.#emit(d, { type: 'disarmed', user: '01' });
    }
  }

  /** Sensors: a battery report every few hours; PIR motion and door contacts now and then. */
  #sensor(d: SimDevice, hour: number, dt: number): void {
    const { random } = this.#ctx;
    if (random() < dt / (6 * 3600)) this.#emit(d, { type: 'battery', percent: 70 + Math.floor(random() * 31), low: false });
    const t = d.spec.sensorType;
    const day = hour >= 7 && hour < 22;
    if (t === 'pir' && d.state.state === 'clear' && random() < (dt * (day ? 6 : 1)) / 3600) {
      this.#emit(d, { type: 'pir', state: 'motion' });
      this.#timers.after(30_000, () => this.#active(d) && this.#emit(d, { type: 'pir', state: 'clear' }));
    } else if (t === 'contact' && d.state.state === 'closed' && random() < (dt * (day ? 4 : 0.5)) / 3600) {
      this.#emit(d, { type: 'contact', state: 'open' });
      this.#timers.after(5000 + random() * 20_000, () => this.#emit(d, { type: 'contact', state: 'closed' }));
    }
  }
}
