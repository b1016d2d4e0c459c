import type { Logger } from 'pino';
import { every, type Clock, type TimerHandle } from './core/clock.ts';
import type { Component } from './core/component.ts';
import type { DeviceHealthSource, DeviceInfo, DeviceStatus, DeviceStatusPort } from './core/county.ts';
import type { DeviceHealth } from './core/driver.ts';

export interface DeviceStatusOptions {
  port: DeviceStatusPort;
  health: DeviceHealthSource;
  /** The site's devices as they are now (an applied config adds or removes some). */
  devices: () => readonly DeviceInfo[];
  clock: Clock;
  log: Logger;
  everyMs: number;
  /** Whether changes also go to the county as device.status envelopes (a county upstream is configured). */
  tellCounty: boolean;
  onEnqueued?: () => void;
}

type State = Pick<DeviceStatus, 'online' | 'eventChannel'>;

const same = (a: State | undefined, b: State) => a !== undefined && a.online === b.online && a.eventChannel === b.eventChannel;

/**
 * Looks at the drivers' device health every `everyMs` and records each change
 * (online/offline, event channel alive/lost) as a transition row: the one
 * record the panel's and the county's uptime figures are both computed from
 * (store/service-history.ts), kept on every box. With a county upstream a
 * change also becomes a device.status envelope. At start every device's state
 * is unknown (the box was not watching); the county is told only of states
 * that differ from what it was last told, so a reboot does not re-announce
 * the whole estate. A device added while the box runs is reported from its
 * first look; a removed one is no longer looked at.
 */
export class DeviceStatusReporter implements Component {
  readonly name = 'device-status';
  private timer: TimerHandle | null = null;
  private current = new Map<string, State>();
  private reported = new Map<string, State>();

  constructor(private readonly o: DeviceStatusOptions) {}

  private devices(): DeviceInfo[] {
    return this.o.devices().filter((d) => d.enabled);
  }

  async start(): Promise<void> {
    this.reported = await this.o.port.lastReported();
    const now = this.o.clock.now();
    const unknown: DeviceStatus[] = this.devices().map((d) => this.status(d, { deviceId: d.id, reachable: null, eventChannel: 'n/a', lastSeen: null }, now));
    for (const u of unknown) this.current.set(u.deviceId, { online: null, eventChannel: u.eventChannel });
    // Unknown from the box's start until the first look: the time the box was off is not counted as online or offline.
    await this.o.port.record(
      unknown,
      unknown.map(() => false),
    );
    this.timer = every(this.o.clock, this.o.everyMs, () =>
      this.look().catch((err: Error) => this.o.log.warn({ err }, 'could not record device status; looking again at the next round')),
    );
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
  }

  /** Compare health with what was recorded; record and report the differences. */
  async look(): Promise<number> {
    const now = this.o.clock.now();
    const byId = new Map(this.o.health.health().map((h) => [h.deviceId, h]));
    const changes: DeviceStatus[] = [];
    const report: boolean[] = [];
    for (const d of this.devices()) {
      const h = byId.get(d.id);
      if (!h) continue; // no driver speaks for it (yet): stays unknown
      const s = this.status(d, h, now);
      const state: State = { online: s.online, eventChannel: s.eventChannel };
      if (same(this.current.get(d.id), state)) continue;
      this.current.set(d.id, state);
      changes.push(s);
      const tell = this.o.tellCounty && !same(this.reported.get(d.id), state);
      report.push(tell);
      if (tell) this.reported.set(d.id, state);
    }
    if (changes.length === 0) return 0;
    await this.o.port.record(changes, report);
    if (report.some(Boolean)) this.o.onEnqueued?.();
    return report.filter(Boolean).length;
  }

  private status(d: DeviceInfo, h: DeviceHealth, now: number): DeviceStatus {
    return {
      deviceId: d.id,
      gbId: d.gbId,
      kind: d.kind,
      grid: d.grid,
      online: h.reachable,
      eventChannel: h.eventChannel,
      lastSeen: h.lastSeen,
      detail: h.detail ?? null,
      at: now,
    };
  }
}
