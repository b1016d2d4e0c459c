/**
 * The Shouwang MQTT device contract, version 1 (docs/mqtt-contract.md), as pure
 * functions: payloads in, DeviceEvents / acks / states out; commands in, payloads
 * out. No network, no clock, no store: the driver wires these to the broker.
 *
 * Every rejection has a reason an installer can act on, naming the field.
 * A credential (card number, face id, QR payload) never leaves decodeEvent: only
 * its hash (from the caller's `hashCredential`) does, and it is cut from `raw`.
 */
import { z } from 'zod';
import type { Command, CommandAction } from '../../gateway/core/command.ts';
import type { DeviceEvent, EventAttrs, EventKind } from '../../gateway/core/events.ts';
import type { DeviceConfig, MqttDeviceConfig } from '../../config/schema.ts';
import { bounded, clockFields, deviceTimeOf, jsonObject, kindOf, payloadText, redactedExcerpt, show } from './payload.ts';

export { MAX_PAYLOAD_BYTES, CLOCK_TRUST_MS, redactedExcerpt } from './payload.ts';

// ---------------------------------------------------------------------------
// Results

export type DecodeResult = { ok: true; deviceEventId: string; heartbeat: boolean; events: DeviceEvent[] } | { ok: false; reason: string };

export const ACK_RESULTS = ['ok', 'failed', 'rejected', 'expired'] as const;
export type AckResult = (typeof ACK_RESULTS)[number];
export type DecodedAck = { ok: true; id: string; result: AckResult; detail?: string } | { ok: false; reason: string };

export type DecodedState = { ok: true; state: Record<string, unknown> } | { ok: false; reason: string };

export type EncodedCommand = { ok: true; payload: Buffer } | { ok: false; reason: string };

/** The command fields encodeCommand needs. */
export type CommandToSend = Pick<Command, 'id' | 'action' | 'params' | 'createdAt' | 'expiresAt'>;

/** What a decoded event becomes, before the fields every event shares. */
type Draft = { [K in EventKind]: { kind: K; attrs: EventAttrs<K>; active: boolean; source?: string } }[EventKind];

// ---------------------------------------------------------------------------
// Field schemas: each `.describe()` is what the installer reads after "expected".

const enumOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values).describe(`one of ${values.map((v) => `"${v}"`).join(', ')}`);

const beginEnd = enumOf(['begin', 'end']);
/** A user code or name; the events table keeps at most 64 characters. */
const user = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => bounded(String(v), 64))
  .optional()
  .describe('a user code or name (a string)');
const freeText = (max: number) =>
  z
    .string()
    .transform((s) => bounded(s, max))
    .optional()
    .describe('a string');

const BaseSchema = z.object({
  id: z.string().min(1).max(64).describe('a string of 1 to 64 characters'),
  type: z.string().describe('a string naming the event type'),
});

// ---------------------------------------------------------------------------
// Event types per device kind: one row per `type`, with what it becomes.

interface EventType<D> {
  schema: z.ZodObject;
  map(message: Record<string, unknown>, device: D): Draft[];
}

function row<S extends z.ZodObject, D>(schema: S, map: (message: z.output<S>, device: D) => Draft[]): EventType<D> {
  return { schema, map: map as EventType<D>['map'] };
}

const tamper = row(z.object({ state: beginEnd }), (m) => [{ kind: 'tamper', attrs: {}, active: m.state === 'begin' }]);

type KindOf<K extends MqttDeviceConfig['kind']> = Extract<MqttDeviceConfig, { kind: K }>;

const EVENT_TYPES: { [K in MqttDeviceConfig['kind']]: Record<string, EventType<KindOf<K>>> } = {
  alarm_panel: {
    zone: row(
      z.object({
        zone: z.number().int().min(1).max(999).describe('a number from 1 to 999'),
        zoneType: enumOf(['intrusion', 'perimeter', 'fire', 'panic']),
        state: enumOf(['alarm', 'restore']),
      }),
      (m) => [{ kind: 'zone_alarm', attrs: { zone: m.zone, zoneType: m.zoneType }, active: m.state === 'alarm', source: String(m.zone) }],
    ),
    armed: row(z.object({ mode: enumOf(['away', 'home', 'night']), user }), (m) => [
      { kind: 'armed', attrs: compact({ mode: m.mode, user: m.user }), active: true },
    ]),
    disarmed: row(z.object({ user }), (m) => [{ kind: 'disarmed', attrs: compact({ user: m.user }), active: true }]),
    trouble: row(z.object({ trouble: enumOf(['ac_loss', 'low_battery', 'comm_fault', 'other']), state: beginEnd, detail: freeText(256) }), (m) => [
      { kind: 'trouble', attrs: compact({ trouble: m.trouble, detail: m.detail }), active: m.state === 'begin', source: m.trouble },
    ]),
    tamper,
  },
  access_controller: {
    door: row(
      z.object({
        state: enumOf(['opened', 'closed', 'forced', 'held_open']),
        seconds: z.number().nonnegative().optional().describe('a number of seconds, 0 or more'),
      }),
      (m, d) => {
        const door = d.door.name;
        switch (m.state) {
          case 'opened':
          case 'closed':
            return [{ kind: 'door_open', attrs: { door }, active: m.state === 'opened', source: door }];
          case 'forced':
            return [{ kind: 'door_forced', attrs: { door }, active: true, source: door }];
          case 'held_open':
            return [{ kind: 'door_held_open', attrs: compact({ door, seconds: m.seconds }), active: true, source: door }];
        }
      },
    ),
    access: row(
      z.object({
        result: enumOf(['granted', 'denied']),
        method: enumOf(['card', 'face', 'qr', 'pin']),
        credential: z.union([z.string(), z.number()]).optional().describe('a string (card number, face id or QR payload)'),
        reason: freeText(128),
      }),
      // The credential is hashed by decodeEvent before this row runs (see below).
      (m, d) => {
        const credentialHash = (m as { credentialHash?: string }).credentialHash;
        const source = d.door.name;
        return m.result === 'granted'
          ? [{ kind: 'access_granted', attrs: compact({ method: m.method, credentialHash }), active: true, source }]
          : [{ kind: 'access_denied', attrs: compact({ method: m.method, credentialHash, reason: m.reason }), active: true, source }];
      },
    ),
    tamper,
  },
  sos_button: {
    sos: row(z.object({ state: enumOf(['pressed', 'cleared']).default('pressed') }), (m, d) => [
      { kind: 'sos', attrs: { household: d.household }, active: m.state === 'pressed' },
    ]),
  },
  sensor: {
    smoke: alarmClear('smoke'),
    water_leak: alarmClear('water_leak'),
    gas: alarmClear('gas'),
    contact: row(z.object({ state: enumOf(['open', 'closed']) }), (m) => [{ kind: 'contact', attrs: {}, active: m.state === 'open' }]),
    pir: row(z.object({ state: enumOf(['motion', 'clear']) }), (m) => [{ kind: 'occupancy', attrs: {}, active: m.state === 'motion' }]),
    battery: row(z.object({ percent: z.number().min(0).max(100).describe('a number from 0 to 100'), low: z.boolean().describe('true or false') }), (m) => [
      { kind: 'battery_low', attrs: { percent: m.percent }, active: m.low },
    ]),
    tamper,
  },
  siren: {},
  loudspeaker: {},
};

function alarmClear(kind: 'smoke' | 'water_leak' | 'gas'): EventType<unknown> {
  return row(z.object({ state: enumOf(['alarm', 'clear']) }), (m) => [{ kind, attrs: {}, active: m.state === 'alarm' }]);
}

const HEARTBEAT = 'heartbeat';

/** The event types a device of this kind may send (heartbeat included). */
export function eventTypesOf(kind: DeviceConfig['kind']): string[] {
  if (kind === 'onvif_camera' || kind === 'mqtt_mapped') return [];
  return [...Object.keys(EVENT_TYPES[kind]), HEARTBEAT];
}

// ---------------------------------------------------------------------------
// Events

/**
 * Decode one `sw/v1/<id>/event` payload of `device`. `hashCredential` turns an
 * access credential into the salted hash the box keeps (HMAC-SHA256, per box).
 */
export function decodeEvent(device: DeviceConfig, payload: Buffer, receivedAt: number, hashCredential: (raw: string) => string): DecodeResult {
  if (device.kind === 'onvif_camera' || device.kind === 'mqtt_mapped') {
    return { ok: false, reason: `device "${device.id}" is ${article(device.kind)} ${device.kind}, which does not speak the MQTT device contract` };
  }
  const parsed = jsonObject(payload);
  if (!parsed.ok) return parsed;
  const message = parsed.value;

  const base = BaseSchema.safeParse(message);
  if (!base.success) return { ok: false, reason: issueReason(base.error, BaseSchema, message) };
  const { id, type } = base.data;

  if (type === HEARTBEAT) return { ok: true, deviceEventId: id, heartbeat: true, events: [] };
  const types = EVENT_TYPES[device.kind] as Record<string, EventType<MqttDeviceConfig>>;
  const eventType = Object.hasOwn(types, type) ? types[type] : undefined;
  if (eventType === undefined) {
    return {
      ok: false,
      reason: `type ${show(type)} is not an event of ${article(device.kind)} ${device.kind} (known: ${eventTypesOf(device.kind).join(', ')})`,
    };
  }

  const fields = eventType.schema.safeParse(message);
  if (!fields.success) return { ok: false, reason: issueReason(fields.error, eventType.schema, message) };
  let data = fields.data as Record<string, unknown>;
  if (data.credential !== undefined) {
    // From here on only the hash exists; the raw value is not passed on.
    const { credential, ...rest } = data;
    data = credential === '' ? rest : { ...rest, credentialHash: hashCredential(String(credential)) };
  }

  const clock = clockFields(deviceTimeOf(message.ts), receivedAt);
  const raw = redactedExcerpt(payload, message);
  const events = eventType.map(data, device).map(
    (draft) =>
      ({
        deviceId: device.id,
        kind: draft.kind,
        active: draft.active,
        ...(draft.source !== undefined ? { source: bounded(draft.source, 128) } : {}),
        attrs: draft.attrs,
        ...clock,
        receivedAt,
        raw,
      }) as DeviceEvent,
  );
  return { ok: true, deviceEventId: id, heartbeat: false, events };
}

// ---------------------------------------------------------------------------
// Acks, status, state

const AckSchema = z.object({
  id: z.string().min(1).max(64).describe('the id of the command (a string of 1 to 64 characters)'),
  result: enumOf(ACK_RESULTS),
  detail: freeText(256),
});

/** Decode one `sw/v1/<id>/cmd/ack` payload. */
export function decodeAck(payload: Buffer): DecodedAck {
  const parsed = jsonObject(payload);
  if (!parsed.ok) return parsed;
  const ack = AckSchema.safeParse(parsed.value);
  if (!ack.success) return { ok: false, reason: issueReason(ack.error, AckSchema, parsed.value) };
  return { ok: true, id: ack.data.id, result: ack.data.result, ...(ack.data.detail !== undefined ? { detail: ack.data.detail } : {}) };
}

/** Decode one `sw/v1/<id>/status` payload: `online`, `offline`, or null for anything else. */
export function decodeStatus(payload: Buffer): 'online' | 'offline' | null {
  const text = payloadText(payload);
  if (!text.ok) return null;
  const s = text.value.trim();
  return s === 'online' || s === 'offline' ? s : null;
}

/** Decode one `sw/v1/<id>/state` payload: any JSON object of at most 16 KiB, kept as a whole. */
export function decodeState(payload: Buffer): DecodedState {
  const parsed = jsonObject(payload);
  return parsed.ok ? { ok: true, state: parsed.value } : parsed;
}

// ---------------------------------------------------------------------------
// Commands

const UNLOCK_DEFAULT_SECONDS = 5;
/** The contract gives no bound for a broadcast's `seconds`; an hour is plenty. */
const BROADCAST_MAX_SECONDS = 3600;

type ParamsCheck = { ok: true; params: Record<string, unknown> } | { ok: false; reason: string };

/** The actions a device kind takes, each with its params check. */
function actionsOf(device: DeviceConfig): Partial<Record<CommandAction, (params: Record<string, unknown>) => ParamsCheck>> {
  switch (device.kind) {
    case 'alarm_panel':
      return {
        arm: (p) => checkParams(z.strictObject({ mode: enumOf(['away', 'home', 'night']) }), p, 'arm'),
        disarm: (p) => checkParams(z.strictObject({}), p, 'disarm'),
      };
    case 'access_controller':
      return {
        unlock: (p) =>
          checkParams(
            z.strictObject({ seconds: z.number().int().min(1).max(60).default(UNLOCK_DEFAULT_SECONDS).describe('whole seconds from 1 to 60') }),
            p,
            'unlock',
          ),
      };
    case 'siren': {
      const max = device.maxDurationSeconds;
      return {
        siren: (p) => {
          const schema = z.strictObject({
            on: z.boolean().describe('true or false'),
            seconds: z.number().int().min(1).max(max).optional().describe(`whole seconds from 1 to ${max} (the siren's maxDurationSeconds)`),
          });
          const checked = checkParams(schema, p, 'siren');
          // A siren is never sent on without a bound: its longest allowed run by default.
          if (checked.ok && checked.params.on === true && checked.params.seconds === undefined) checked.params.seconds = max;
          return checked;
        },
      };
    }
    case 'loudspeaker': {
      const clips = device.clips.map((c) => c.id);
      return {
        broadcast: (p) => {
          const schema = z.strictObject({
            clip: z.string().optional().describe('a clip id (a string)'),
            stop: z.literal(true).optional().describe('true'),
            seconds: z.number().int().min(1).max(BROADCAST_MAX_SECONDS).optional().describe(`whole seconds from 1 to ${BROADCAST_MAX_SECONDS}`),
          });
          const checked = checkParams(schema, p, 'broadcast');
          if (!checked.ok) return checked;
          const { clip, stop } = checked.params;
          if (clip !== undefined && stop !== undefined) return { ok: false, reason: 'params: give either clip or stop: true, not both' };
          if (clip === undefined && stop === undefined) return { ok: false, reason: 'params.clip: missing, expected a clip id (or stop: true)' };
          if (clip !== undefined && !clips.includes(clip as string)) {
            const known = clips.length > 0 ? `known: ${clips.join(', ')}` : 'it has no clips configured';
            return { ok: false, reason: `params.clip: ${show(clip)} is not a clip of loudspeaker "${device.id}" (${known})` };
          }
          return checked;
        },
      };
    }
    default:
      return {};
  }
}

/**
 * Build the `sw/v1/<id>/cmd` payload of a command, after checking that the
 * action fits the device kind and its params fit the contract. Defaults are
 * filled in (unlock 5 s; a siren turned on runs at most its maxDurationSeconds).
 */
export function encodeCommand(device: DeviceConfig, cmd: CommandToSend): EncodedCommand {
  if (typeof cmd.id !== 'string' || cmd.id.length < 1 || cmd.id.length > 64)
    return { ok: false, reason: `id: expected a string of 1 to 64 characters, got ${show(cmd.id)}` };
  const actions = actionsOf(device);
  const check = Object.hasOwn(actions, cmd.action) ? actions[cmd.action] : undefined;
  if (check === undefined) {
    const known = Object.keys(actions);
    const takes = known.length > 0 ? `known: ${known.join(', ')}` : 'it takes no commands';
    return { ok: false, reason: `action ${show(cmd.action)} is not a command of ${article(device.kind)} ${device.kind} (${takes})` };
  }
  const params = cmd.params ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) return { ok: false, reason: `params: expected an object, got ${kindOf(params)}` };
  const checked = check(params);
  if (!checked.ok) return checked;
  const body = { id: cmd.id, action: cmd.action, params: checked.params, issuedAt: cmd.createdAt, expiresAt: cmd.expiresAt };
  return { ok: true, payload: Buffer.from(JSON.stringify(body), 'utf8') };
}

function checkParams(schema: z.ZodObject, params: Record<string, unknown>, action: string): ParamsCheck {
  const r = schema.safeParse(params);
  if (r.success) return { ok: true, params: r.data as Record<string, unknown> };
  return { ok: false, reason: issueReason(r.error, schema, params, 'params.', action) };
}

// ---------------------------------------------------------------------------
// Reasons

/** Fields whose value must never be quoted in a reason. */
const SECRET_FIELDS = new Set(['credential']);

/**
 * The first issue as an installer reads it: `<field>: expected <what the field's
 * description says>, got <value>`, or `<field>: missing, expected ...`.
 */
function issueReason(error: z.ZodError, schema: z.ZodObject, input: Record<string, unknown>, prefix = '', what = 'this message'): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  if (issue.code === 'unrecognized_keys') {
    return `${prefix}${issue.keys[0] ?? '?'}: not a parameter of ${what} (known: ${Object.keys(schema.shape).join(', ') || 'none'})`;
  }
  const key = String(issue.path[0] ?? '');
  const expected = describedAs(schema.shape[key] as z.ZodType | undefined) ?? issue.message;
  const name = `${prefix}${issue.path.map(String).join('.')}`;
  const value = input[key];
  if (value === undefined) return `${name}: missing, expected ${expected}`;
  const got = SECRET_FIELDS.has(key) ? kindOf(value) : show(value);
  return `${name}: expected ${expected}, got ${got}`;
}

/** A field's description, looking through wrappers such as `.default()` and `.optional()`. */
function describedAs(field: z.ZodType | undefined): string | undefined {
  for (let f = field; f !== undefined; f = (f.def as { innerType?: z.ZodType }).innerType) if (f.description !== undefined) return f.description;
  return undefined;
}

function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}
