import { z } from 'zod';

/**
 * DeviceEvent: one normalized observation from a driver (or from the box
 * itself). The kind decides the shape of `attrs` (a zod discriminated union)
 * and the outbox lane the event travels in if it is forwarded.
 */

/** Outbox/storage lanes, in priority order. */
export const LANES = ['alarm', 'record', 'status'] as const;
export type Lane = (typeof LANES)[number];
export const laneIndex: Record<Lane, number> = { alarm: 0, record: 1, status: 2 };

const none = z.object({}).strict();
const accessMethod = z.enum(['card', 'face', 'qr', 'pin', 'remote', 'other']);

/**
 * One row per kind: the attributes it carries and its lane. A new kind is a
 * new row; everything else (validation, storage class, shedding order) follows.
 */
export const EVENT_KINDS = {
  // cameras (ONVIF)
  motion: { lane: 'status', attrs: z.object({ region: z.string().max(128).optional() }).strict() },
  tamper: { lane: 'alarm', attrs: z.object({ cause: z.string().max(64).optional() }).strict() },
  line_crossing: { lane: 'alarm', attrs: z.object({ rule: z.string().max(128).optional(), direction: z.string().max(32).optional() }).strict() },
  intrusion: { lane: 'alarm', attrs: z.object({ rule: z.string().max(128).optional() }).strict() },
  digital_input: { lane: 'alarm', attrs: z.object({ input: z.string().max(64) }).strict() },
  clock_skew: { lane: 'status', attrs: z.object({ offsetMs: z.number() }).strict() },
  auth_failed: { lane: 'status', attrs: z.object({ attempts: z.number().int().nonnegative() }).strict() },
  event_channel_lost: { lane: 'status', attrs: z.object({ reason: z.string().max(256) }).strict() },
  // alarm panels
  zone_alarm: {
    lane: 'alarm',
    attrs: z.object({ zone: z.number().int().min(1).max(999), zoneType: z.enum(['intrusion', 'perimeter', 'fire', 'panic']) }).strict(),
  },
  armed: { lane: 'record', attrs: z.object({ mode: z.enum(['away', 'home', 'night']), user: z.string().max(64).optional() }).strict() },
  disarmed: { lane: 'record', attrs: z.object({ user: z.string().max(64).optional() }).strict() },
  trouble: {
    lane: 'status',
    attrs: z.object({ trouble: z.enum(['ac_loss', 'low_battery', 'comm_fault', 'other']), detail: z.string().max(256).optional() }).strict(),
  },
  // access control
  door_open: { lane: 'record', attrs: z.object({ door: z.string().max(64).optional() }).strict() },
  door_forced: { lane: 'alarm', attrs: z.object({ door: z.string().max(64).optional() }).strict() },
  door_held_open: { lane: 'alarm', attrs: z.object({ door: z.string().max(64).optional(), seconds: z.number().nonnegative().optional() }).strict() },
  access_granted: { lane: 'record', attrs: z.object({ method: accessMethod, credentialHash: z.string().max(128).optional() }).strict() },
  access_denied: {
    lane: 'record',
    attrs: z.object({ method: accessMethod, credentialHash: z.string().max(128).optional(), reason: z.string().max(128).optional() }).strict(),
  },
  // household and sensors
  sos: { lane: 'alarm', attrs: z.object({ household: z.string().max(64).optional() }).strict() },
  smoke: { lane: 'alarm', attrs: none },
  water_leak: { lane: 'alarm', attrs: none },
  gas: { lane: 'alarm', attrs: none },
  contact: { lane: 'record', attrs: none },
  occupancy: { lane: 'status', attrs: none },
  battery_low: { lane: 'status', attrs: z.object({ percent: z.number().min(0).max(100).optional() }).strict() },
  // any device
  device_offline: { lane: 'status', attrs: z.object({ reason: z.string().max(256).optional() }).strict() },
  device_silent: { lane: 'status', attrs: z.object({ silentForMs: z.number().nonnegative() }).strict() },
  generic: { lane: 'status', attrs: z.object({ topic: z.string().max(512), data: z.record(z.string(), z.unknown()) }).strict() },
  // the box itself
  storage_loss: {
    lane: 'alarm',
    attrs: z.object({ lane: z.enum(LANES), cause: z.enum(['shed', 'evicted']), reason: z.string().max(128), count: z.number().int().positive() }).strict(),
  },
  storage_recovered: { lane: 'alarm', attrs: z.object({ movedTo: z.string(), reason: z.string().max(512) }).strict() },
  box_started: { lane: 'status', attrs: z.object({ version: z.string(), uncleanShutdown: z.boolean() }).strict() },
} as const satisfies Record<string, { lane: Lane; attrs: z.ZodType }>;

export type EventKind = keyof typeof EVENT_KINDS;
export const eventKinds = Object.keys(EVENT_KINDS) as EventKind[];
export type EventAttrs<K extends EventKind> = z.infer<(typeof EVENT_KINDS)[K]['attrs']>;

export function laneOf(kind: EventKind): Lane {
  return EVENT_KINDS[kind].lane;
}

/** The device id the box uses for events it raises about itself. */
export const BOX_DEVICE_ID = '_box';

/** A raw excerpt is kept for diagnosis, bounded so a device cannot bloat the store. */
export const RAW_EXCERPT_MAX = 1024;

export function rawExcerpt(raw: string | Buffer | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const s = typeof raw === 'string' ? raw : raw.toString('utf8');
  return s.length <= RAW_EXCERPT_MAX ? s : `${s.slice(0, RAW_EXCERPT_MAX - 1)}…`;
}

const eventBase = {
  deviceId: z.string().min(1).max(64),
  active: z.boolean().describe('true when the condition starts (alarm on), false when it ends (restore)'),
  source: z.string().max(128).optional().describe('zone number, input token, video source... inside the device'),
  deviceTime: z.number().nullable().describe('epoch ms as the device reported it; null when it gave none or an impossible one'),
  receivedAt: z.number().describe('epoch ms of the box when the event arrived'),
  clockOffsetMs: z.number().nullable().describe('device clock minus box clock, when known'),
  clockTrusted: z.boolean().describe('whether the device clock is known to be in sync; if not, receivedAt is the time to believe'),
  initial: z.boolean().optional().describe('a state snapshot at (re)subscription, not a new change'),
  raw: z.string().max(RAW_EXCERPT_MAX).optional(),
};

type EventBase = { [K in keyof typeof eventBase]: z.infer<(typeof eventBase)[K]> };
export type DeviceEvent = { [K in EventKind]: EventBase & { kind: K; attrs: EventAttrs<K> } }[EventKind];
export type DeviceEventOf<K extends EventKind> = Extract<DeviceEvent, { kind: K }>;

export const DeviceEventSchema = z.discriminatedUnion(
  'kind',
  eventKinds.map((kind) => z.object({ ...eventBase, kind: z.literal(kind), attrs: EVENT_KINDS[kind].attrs }).strict()) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
) as unknown as z.ZodType<DeviceEvent>;

/** An event once the store has accepted it. */
export type StoredEvent = DeviceEvent & {
  seq: number;
  id: string;
  lane: Lane;
  grid: string | null;
};

/** The time to believe for an event: device time only when its clock is trusted. */
export function occurredAt(e: Pick<DeviceEvent, 'deviceTime' | 'receivedAt' | 'clockTrusted'>): number {
  return e.clockTrusted && e.deviceTime !== null ? e.deviceTime : e.receivedAt;
}

/** Build an event the box raises about itself (clock trusted: it is the box's own). */
export function boxEvent<K extends EventKind>(kind: K, attrs: EventAttrs<K>, now: number, active = true): DeviceEventOf<K> {
  return {
    kind,
    attrs,
    deviceId: BOX_DEVICE_ID,
    active,
    deviceTime: now,
    receivedAt: now,
    clockOffsetMs: 0,
    clockTrusted: true,
  } as DeviceEventOf<K>;
}
