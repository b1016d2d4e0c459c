import type { Logger } from 'pino';
import type { SiteConfig } from '../../config/schema.ts';
import type { Bus } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { DeviceHealth } from '../core/driver.ts';
import type { StoredEvent } from '../core/events.ts';
import type { Commands } from '../commands.ts';
import type { PanelData } from '../store/panel-data.ts';
import type { Store } from '../store/store.ts';
import type { ActiveSession } from './auth/sessions.ts';

/** What the county link reports about itself (the cloud bridge fills it in once it lands). */
export interface UpstreamLink {
  connected: boolean;
  /** Since when it has been connected (or disconnected). */
  since: number | null;
  lastError?: string | null;
  lastSuccessAt?: number | null;
}

/** Snapshots kept by the box (camera pictures for alarms); the ONVIF part provides them. */
export interface SnapshotSource {
  get(id: string): Promise<{ mime: string; data: Buffer } | null>;
  /** A fresh picture from a camera, for the device page. */
  current?(deviceId: string): Promise<{ mime: string; data: Buffer } | null>;
}

/** Everything the panel and installer plugins use, injected by app.ts. */
export interface PanelDeps {
  store: Store;
  data: PanelData;
  clock: Clock;
  log: Logger;
  bus: Bus<{ 'event.stored': StoredEvent }>;
  version: string;
  /** The site config in force (it changes when the installer applies a new one). */
  config(): SiteConfig;
  /** Live health of every device, from the drivers. */
  health(): DeviceHealth[];
  /** A device's last reported state (an MQTT device's retained state). */
  deviceState(deviceId: string): Record<string, unknown> | null;
  commands: Commands;
  upstream?: () => UpstreamLink | null;
  snapshots?: SnapshotSource;
  /** Whether the panel is served over TLS (Secure cookies). */
  tls: boolean;
}

/** Record an audit entry for what a signed-in person did. */
export function auditAs(
  deps: Pick<PanelDeps, 'store' | 'log'>,
  session: ActiveSession | null,
  action: string,
  target: string | null,
  outcome: string,
  detail?: unknown,
): Promise<void> {
  return deps.store.audit
    .record({ actor: session?.user.username ?? 'anonymous', action, target, outcome, ...(detail !== undefined ? { detail } : {}) })
    .catch((err: Error) => deps.log.error({ err, action, target }, 'could not write an audit entry'));
}
