import type { Logger } from 'pino';
import type { SiteConfig } from '../../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { DeviceHealth } from '../core/driver.ts';
import type { StoredEvent } from '../core/events.ts';
import type { Alarm } from '../core/alarm.ts';
import type { Commands } from '../commands.ts';
import type { PanelData } from '../store/panel-data.ts';
import type { Store } from '../store/store.ts';
import type { ActiveSession } from './auth/sessions.ts';

/** Stored events as they commit (the gateway's bus). */
export interface EventFeed {
  on(topic: 'event.stored', fn: (e: StoredEvent) => void): () => void;
}

/** An alarm as it is after a committed change. */
export type ChangedAlarm = Alarm & { changeSeq: number };

/** What the county push reports about itself (cloud-bridge/push Pusher.stats()). */
export interface UpstreamStats {
  state: 'idle' | 'sending' | 'backoff' | 'stopped';
  consecutiveFailures: number;
  lastError: string | null;
  lastAckAt: number | null;
  accepted: number;
  deadLettered: number;
  rate: number;
  mode: string;
}

/** The link as the panel shows it: connected or not, and since when (as observed, to within the meter's sampling). */
export interface UpstreamLink {
  connected: boolean;
  since: number | null;
  lastError: string | null;
  lastAckAt: number | null;
  state: UpstreamStats['state'];
  mode: string;
}

/** Snapshots kept by the box (camera pictures for alarms); the ONVIF part provides them. */
export interface SnapshotSource {
  get(id: string): Promise<{ mime: string; data: Buffer } | null>;
  /** A fresh picture from a camera for the device page, taken on behalf of `actor` (recorded as a command). */
  current?(deviceId: string, actor: string): Promise<{ mime: string; data: Buffer } | null>;
}

/** Everything the panel and installer plugins use, injected by app.ts. */
export interface PanelDeps {
  store: Store;
  data: PanelData;
  clock: Clock;
  log: Logger;
  bus: EventFeed;
  version: string;
  /** The site config in force (it changes when the installer applies a new one). */
  config(): SiteConfig;
  /** Live health of every device, from the drivers. */
  health(): DeviceHealth[];
  /** A device's last reported state (an MQTT device's retained state). */
  deviceState(deviceId: string): Record<string, unknown> | null;
  commands: Commands;
  /** The county push's state, when upstream is configured. */
  upstream?: () => UpstreamStats | null;
  /** Device maintenance (the detection rules ignore a device under maintenance); audited by the rules' side. */
  maintenance?: {
    set(deviceId: string, on: boolean, actor: string, reason: string, minutes?: number): Promise<unknown>;
    list(): { deviceId: string; source: 'config' | 'panel'; actor: string | null; reason: string | null; since: number | null; until: number | null }[];
  };
  /** Told of every committed alarm change (the store's hook), for the live feed. */
  alarmChanges?: (fn: (a: ChangedAlarm) => void) => () => void;
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
