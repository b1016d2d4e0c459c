/** Public types of the MQTT device simulators (wire-level peers of docs/mqtt-contract.md). */

export const SIM_DEVICE_KINDS = ['alarm_panel', 'access_controller', 'sos_button', 'sensor', 'siren', 'loudspeaker'] as const;
export type SimDeviceKind = (typeof SIM_DEVICE_KINDS)[number];

export type SimZoneType = 'intrusion' | 'perimeter' | 'fire' | 'panic';
export type SimSensorType = 'smoke' | 'water_leak' | 'gas' | 'contact' | 'pir';

/** One simulated device: who it is on the wire and what it has. */
export interface SimDeviceSpec {
  id: string;
  kind: SimDeviceKind;
  /** MQTT password (the user name is the id). */
  password: string;
  /** alarm_panel: its zones. */
  zones?: { number: number; type: SimZoneType }[];
  /** sensor: what it senses (default smoke). */
  sensorType?: SimSensorType;
  /** loudspeaker: the clips it knows; a `broadcast` of another clip is rejected. Absent: any clip plays. */
  clips?: { id: string }[];
  /** siren: longest sounding per command, seconds (default 180). */
  maxDurationSeconds?: number;
  /** access_controller: seconds after which a propped door reports held_open (default 60). */
  heldOpenSeconds?: number;
}

/** The device's own clock (event `ts`, command expiry). */
export interface SimClock {
  now(): number;
}

export type SimTraffic = 'none' | 'realistic' | { eventsPerSecond: number };

/** An event body as published on `sw/v1/<id>/event` (the simulator adds `id` and `ts`). */
export type SimEventBody = { type: string } & Record<string, unknown>;

export type CommandResult = 'ok' | 'failed' | 'rejected' | 'expired';

export interface CommandAck {
  id: string;
  result: CommandResult;
  detail?: string;
}

/** A command the device received and what it answered (null: not answered, e.g. silent or `ignore` mode). */
export interface CommandRecord {
  /** Device clock, epoch ms. */
  receivedAt: number;
  /** The payload as received (UTF-8). */
  raw: string;
  id: string | null;
  action: string | null;
  params: Record<string, unknown>;
  answer: CommandAck | null;
}

/**
 * How the device treats commands: `normal` (per the contract), `fail` (answers `failed`, "lock jammed"),
 * `ignore` (never answers; the box should record `timed_out`).
 */
export type CommandMode = 'normal' | 'fail' | 'ignore';

export interface PublishEventOptions {
  /** Use this id instead of the next counter value (e.g. to resend a duplicate). */
  id?: string;
  /** `ts` to send: a number or RFC 3339 string; `false` sends none (default: device clock now). */
  ts?: number | string | false;
  /** Default 1. */
  qos?: 0 | 1;
  /** Update and republish the state snapshot when the event changes it (default true). */
  reflectState?: boolean;
}

export interface PublishRawOptions {
  /** Default 0 (a QoS 1 publish the broker refuses would be resent on every reconnect). */
  qos?: 0 | 1;
  retain?: boolean;
  /** Reject if no PUBACK within this time (QoS 1 only; default 10 s). */
  timeoutMs?: number;
}

export interface SentEventsOptions {
  /** Include heartbeat events (default false). */
  heartbeats?: boolean;
}

export interface StartMqttDevicesOptions {
  /** mqtt://host:port or mqtts://host:port; every connection goes there and nowhere else. */
  brokerUrl: string;
  devices: SimDeviceSpec[];
  /** Background traffic (default none). */
  traffic?: SimTraffic;
  /** Device clock (default the system clock). */
  clock?: SimClock;
  /** One line per notable thing (connects, disconnects, commands, refusals). */
  log?: (line: string) => void;
  /** For mqtts:// URLs: the CA that signed the broker certificate. */
  tls?: { ca?: Buffer; rejectUnauthorized?: boolean };
  /** Heartbeat period per device, ms (default 60 000; 0 = none). */
  heartbeatMs?: number;
  /** MQTT keepalive, seconds (default 30). */
  keepaliveSeconds?: number;
  /** Wait between reconnect attempts, ms (default 1000). */
  reconnectPeriodMs?: number;
  /** Consecutive failed reconnect attempts after which a device gives up (default 600). */
  maxReconnectAttempts?: number;
  /** Resolve only once every device is connected (default true); rejects after `connectTimeoutMs`. */
  waitForConnect?: boolean;
  /** Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Middle part of event ids, `<device>-<runTag>-000123`, so that a second run does not reuse the ids
   * of the first (the box drops repeated ids). Default: the start second in base 36; '' gives `<device>-000123`.
   */
  runTag?: string;
  /** Time zone for realistic traffic's rush hours (default Asia/Shanghai). */
  timeZone?: string;
  /** Random source for traffic and faults (default Math.random); see `seededRandom`. */
  random?: () => number;
  /** Most event ids remembered per device for `sentEvents()` (default 1 000 000). */
  maxRecordedEvents?: number;
}
