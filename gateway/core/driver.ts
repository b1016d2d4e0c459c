import type { Logger } from 'pino';
import type { DeviceConfig } from '../../config/schema.ts';
import type { Clock } from './clock.ts';
import type { Command, CommandOutcome } from './command.ts';
import type { Component } from './component.ts';
import type { DeviceEvent } from './events.ts';

/** What the store answers for one append. */
export type AppendResult =
  | { stored: true; seq: number; id: string }
  /** Not stored because the disk budget sheds this lane; counted and reported upstream. */
  | { stored: false; reason: 'shed' }
  /** Already stored: the device resent an event with the same device event id. */
  | { stored: false; reason: 'duplicate'; seq: number; id: string };

export interface EmitOptions {
  /** The device's own id for this event; a second event with the same one from the same device is dropped. */
  dedupeKey?: string;
  /** The device says it sends this again (MQTT DUP): likely stored already, so looked up before it is inserted. */
  resent?: boolean;
}

/** A device payload the driver could not turn into an event. Kept, bounded, in the rejects table. */
export interface Reject {
  deviceId: string | null;
  source: string; // topic, URL, ...
  reason: string;
  excerpt?: string;
}

/**
 * Where drivers put what they observed. emit resolves only when the event is
 * committed, so a driver acknowledges its device after, never before.
 */
export interface EventSink {
  emit(event: DeviceEvent, opts?: EmitOptions): Promise<AppendResult>;
  reject(reject: Reject): void;
}

export interface DeviceHealth {
  deviceId: string;
  /** The device answers at all (device service, MQTT connection). */
  reachable: boolean | null;
  /** Its event stream works (pulls return, renewals succeed). 'n/a' for devices that push. */
  eventChannel: 'alive' | 'lost' | 'n/a';
  lastSeen: number | null;
  detail?: string;
}

export interface DriverContext {
  sink: EventSink;
  clock: Clock;
  log: Logger;
  devices: readonly DeviceConfig[];
}

/** A protocol driver: events out, commands in, health on request. Never touches the store or the panel. */
export interface Driver extends Component {
  execute(command: Command): Promise<CommandOutcome>;
  health(): DeviceHealth[];
}
