/** A set of simulated MQTT devices connected to one broker: `startMqttDevices` and `SimEstate`. */
import { SimDevice, type DeviceSettings } from './device.ts';
import { startFault, type FaultMode, type FaultOptions, type FaultRun } from './faults.ts';
import { TrafficRunner } from './traffic.ts';
import { SIM_DEVICE_KINDS, type SentEventsOptions, type SimTraffic, type StartMqttDevicesOptions } from './types.ts';
import { errorMessage } from './util.ts';

export interface EstateStats {
  devices: number;
  connected: number;
  silent: number;
  eventsPublished: number;
  eventsAcked: number;
  eventsFailed: number;
  commands: number;
  trafficGenerated: number;
  trafficSkipped: number;
}

export class SimEstate {
  readonly devices: readonly SimDevice[];
  readonly #byId: Map<string, SimDevice>;
  readonly #traffic: TrafficRunner;
  readonly #faults = new Set<FaultRun>();
  readonly #random: () => number;
  readonly #log: (line: string) => void;
  #stopped = false;

  /** Use `startMqttDevices`. */
  constructor(devices: SimDevice[], traffic: TrafficRunner, random: () => number, log: (line: string) => void) {
    this.devices = devices;
    this.#byId = new Map(devices.map((d) => [d.id, d]));
    this.#traffic = traffic;
    this.#random = random;
    this.#log = log;
  }

  /** The device with this id; throws for an unknown id. */
  device(id: string): SimDevice {
    const d = this.#byId.get(id);
    if (!d) throw new Error(`no simulated device ${JSON.stringify(id)}`);
    return d;
  }

  /** Event ids the broker PUBACKed, per device (heartbeats only when asked). */
  sentEvents(opts: SentEventsOptions = {}): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const d of this.devices) out[d.id] = d.sentEvents(opts);
    return out;
  }

  get traffic(): SimTraffic {
    return this.#traffic.mode;
  }

  setTraffic(traffic: SimTraffic): void {
    if (this.#stopped) return;
    this.#traffic.set(traffic);
  }

  /** Starts a bounded fault mode (see faults.ts); it stops by itself after its rounds, or with `stop()`. */
  startFault(mode: FaultMode, opts: Partial<FaultOptions> = {}): FaultRun {
    const run = startFault(this.devices, mode, { log: this.#log, random: this.#random, ...opts });
    this.#faults.add(run);
    void run.done.then(() => this.#faults.delete(run));
    return run;
  }

  stats(): EstateStats {
    const s: EstateStats = {
      devices: this.devices.length,
      connected: 0,
      silent: 0,
      eventsPublished: 0,
      eventsAcked: 0,
      eventsFailed: 0,
      commands: 0,
      trafficGenerated: this.#traffic.stats.generated,
      trafficSkipped: this.#traffic.stats.skipped,
    };
    for (const d of this.devices) {
      if (d.connected) s.connected++;
      if (d.silent) s.silent++;
      s.eventsPublished += d.counts.published;
      s.eventsAcked += d.counts.acked;
      s.eventsFailed += d.counts.failed;
      s.commands += d.counts.commands;
    }
    return s;
  }

  /** Stops traffic and faults, then disconnects every device cleanly (`offline` retained first). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#traffic.stop();
    for (const f of this.#faults) f.stop();
    await Promise.allSettled(this.devices.map((d) => d.stop()));
  }
}

function checkSpecs(opts: StartMqttDevicesOptions): void {
  let url: URL;
  try {
    url = new URL(opts.brokerUrl);
  } catch {
    throw new Error(`brokerUrl ${JSON.stringify(opts.brokerUrl)} is not a URL (expected mqtt://host:port or mqtts://host:port)`);
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'tls:'].includes(url.protocol)) {
    throw new Error(`brokerUrl ${JSON.stringify(opts.brokerUrl)}: only mqtt:// and mqtts:// are supported`);
  }
  const seen = new Set<string>();
  for (const s of opts.devices) {
    if (!/^[a-z0-9_-]{1,64}$/i.test(s.id)) throw new Error(`device id ${JSON.stringify(s.id)}: 1-64 of a-z 0-9 - _`);
    if (seen.has(s.id)) throw new Error(`device id ${s.id} appears twice`);
    seen.add(s.id);
    if (!SIM_DEVICE_KINDS.includes(s.kind)) throw new Error(`device ${s.id}: kind ${JSON.stringify(s.kind)} is not an MQTT device kind`);
  }
}

/**
 * Connects one mqtt.js client per device (its id as client id and user name, its password,
 * clean: false, keepalive 30 s, will `offline` retained), then starts the traffic. By default resolves
 * once every device is online and rejects (after disconnecting the rest) if any is refused or slow.
 */
export async function startMqttDevices(opts: StartMqttDevicesOptions): Promise<SimEstate> {
  checkSpecs(opts);
  const log = opts.log ?? (() => undefined);
  const random = opts.random ?? Math.random;
  const clock = opts.clock ?? { now: () => Date.now() };
  const settings: DeviceSettings = {
    brokerUrl: opts.brokerUrl,
    clock,
    log,
    heartbeatMs: opts.heartbeatMs ?? 60_000,
    keepaliveSeconds: opts.keepaliveSeconds ?? 30,
    reconnectPeriodMs: opts.reconnectPeriodMs ?? 1000,
    maxReconnectAttempts: opts.maxReconnectAttempts ?? 600,
    runTag: opts.runTag ?? Math.floor(Date.now() / 1000).toString(36),
    maxRecordedEvents: opts.maxRecordedEvents ?? 1_000_000,
    ...(opts.tls ? { tls: opts.tls } : {}),
  };
  const devices = opts.devices.map((spec) => new SimDevice(spec, settings));
  const traffic = new TrafficRunner({ devices, clock, random, timeZone: opts.timeZone ?? 'Asia/Shanghai', log });
  const estate = new SimEstate(devices, traffic, random, log);
  const wait = opts.waitForConnect ?? true;
  const timeout = opts.connectTimeoutMs ?? 10_000;
  const results = await Promise.allSettled(devices.map((d) => d.start(wait ? timeout : null)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
  if (failures.length > 0) {
    await estate.stop();
    const shown = failures.slice(0, 5).join('; ');
    throw new Error(`${failures.length} of ${devices.length} simulated devices did not come online: ${shown}${failures.length > 5 ? '; …' : ''}`);
  }
  if (opts.traffic && opts.traffic !== 'none') estate.setTraffic(opts.traffic);
  return estate;
}
