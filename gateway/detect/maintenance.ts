import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { MaintenanceRow } from '../store/detect-state.ts';
import type { Registry } from './registry.ts';

export interface MaintenancePorts {
  save(row: MaintenanceRow): Promise<void>;
  audit(e: { actor: string; action: string; target: string; outcome: string; detail?: unknown }): Promise<void>;
}

export interface MaintenanceEntry {
  deviceId: string;
  name: string;
  /** config: `maintenance: true` in the site file; panel: set by an installer through the API. */
  source: 'config' | 'panel';
  actor: string | null;
  reason: string | null;
  since: number | null;
  until: number | null;
}

export class MaintenanceError extends Error {}

/**
 * Devices under maintenance (an installer at work): their events are stored
 * as always, but raise no alarm. A flag set through the API overrides the
 * site file's `maintenance`, is kept across restarts, may lapse by itself,
 * and every change is audited.
 */
export class Maintenance {
  private readonly overrides = new Map<string, MaintenanceRow>();
  private readonly fromConfig = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly ports: MaintenancePorts | null,
  ) {
    for (const d of registry.all()) if (d.maintenance) this.fromConfig.add(d.id);
  }

  load(rows: readonly MaintenanceRow[]): void {
    for (const r of rows) this.overrides.set(r.deviceId, r);
  }

  isOn(deviceId: string, at: number): boolean {
    if (this.overrides.size === 0) return this.fromConfig.size > 0 && this.fromConfig.has(deviceId);
    const o = this.overrides.get(deviceId);
    if (o) return o.maintenance && (o.until === null || at < o.until);
    return this.fromConfig.has(deviceId);
  }

  /** Put a device into maintenance or take it out (audited; `minutes`: lapse by itself after that long). */
  async set(deviceId: string, on: boolean, actor: string, reason: string, minutes?: number): Promise<MaintenanceEntry | null> {
    const device = this.registry.get(deviceId);
    if (!device) throw new MaintenanceError(`no device ${JSON.stringify(deviceId)} in the site file`);
    if (!actor.trim()) throw new MaintenanceError('maintenance needs the name of who sets it');
    if (!reason.trim()) throw new MaintenanceError('maintenance needs a reason (e.g. 更换镜头)');
    if (minutes !== undefined && (!Number.isFinite(minutes) || minutes <= 0 || minutes > 30 * 1440)) {
      throw new MaintenanceError(`minutes must be between 1 and ${30 * 1440}, got ${minutes}`);
    }
    const now = this.clock.now();
    const row: MaintenanceRow = { deviceId, maintenance: on, actor, reason, since: now, until: on && minutes !== undefined ? now + minutes * 60_000 : null };
    if (this.ports) {
      await this.ports.save(row);
      await this.ports.audit({
        actor,
        action: 'device.maintenance',
        target: deviceId,
        outcome: on ? 'on' : 'off',
        detail: { reason, until: row.until },
      });
    }
    this.overrides.set(deviceId, row);
    this.log.info(
      { deviceId, on, actor, reason, until: row.until },
      on ? 'device put into maintenance: its events raise no alarm' : 'device out of maintenance',
    );
    return this.entry(deviceId, now);
  }

  /** Devices in maintenance now. */
  list(): MaintenanceEntry[] {
    const now = this.clock.now();
    const ids = new Set([...this.fromConfig, ...this.overrides.keys()]);
    return [...ids]
      .sort()
      .map((id) => this.entry(id, now))
      .filter((e): e is MaintenanceEntry => e !== null);
  }

  private entry(deviceId: string, now: number): MaintenanceEntry | null {
    if (!this.isOn(deviceId, now)) return null;
    const o = this.overrides.get(deviceId);
    const name = this.registry.get(deviceId)?.name ?? deviceId;
    return o
      ? { deviceId, name, source: 'panel', actor: o.actor, reason: o.reason, since: o.since, until: o.until }
      : { deviceId, name, source: 'config', actor: null, reason: null, since: null, until: null };
  }
}
