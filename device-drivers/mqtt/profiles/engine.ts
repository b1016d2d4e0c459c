/**
 * The mapping-profile engine: third-party bridges (zigbee2mqtt, Home
 * Assistant-style panels) publish under their base topic in their own format;
 * a profile (a table, one row per field or state) says what becomes which
 * DeviceEvent, and this one engine applies any profile.
 *
 * A new vendor is a new table file next to this one (see ./types.ts for the row
 * format), one line in PROFILES below, and a test in tests/unit/mqtt/.
 *
 * The engine keeps the last status of every (device, row), so only changes
 * become events: bridges republish a device's whole state on every update. The
 * first message of a device after start (or after `forget`) is a snapshot: only
 * what is active then becomes an event, marked `initial: true`. Third-party
 * payloads carry no trustworthy device time: deviceTime is null, the clock untrusted.
 */
import { EVENT_KINDS, rawExcerpt, type DeviceEvent } from '../../../gateway/core/events.ts';
import type { DeviceConfig, MappingProfile, MqttBridgeConfig, MqttMappedConfig } from '../../../config/schema.ts';
import { jsonObject, payloadText, show } from '../payload.ts';
import { HA_ALARM_PANEL } from './ha-alarm-panel.ts';
import type { FieldValue, Profile, ProfileRow } from './types.ts';
import { ZIGBEE2MQTT } from './zigbee2mqtt.ts';

export const PROFILES: Record<MappingProfile, Profile> = {
  zigbee2mqtt: ZIGBEE2MQTT,
  ha_alarm_panel: HA_ALARM_PANEL,
};

/**
 * ok with deviceId null: a topic with no device data (the bridge's own topics, a
 * disabled device), `ignored` says which. ok: false: kept in the rejects table.
 */
export type MapResult =
  { ok: true; deviceId: string; events: DeviceEvent[] } | { ok: true; deviceId: null; events: []; ignored: string } | { ok: false; reason: string };

type Status = 'active' | 'inactive';
type Resolved = { device: MqttMappedConfig; profile: Profile } | { ignored: string } | { error: string };

interface Bridge {
  config: MqttBridgeConfig;
  base: string;
  profile: Profile;
  devices: Map<string, MqttMappedConfig>;
}

export class ProfileMapper {
  readonly #bridges = new Map<string, Bridge>();
  /** deviceId → row index → last status. A device without an entry has not been seen yet. */
  readonly #last = new Map<string, Map<number, Status>>();

  /** `devices` may hold every device of the site: only the `mqtt_mapped` ones are used. */
  constructor(bridges: readonly MqttBridgeConfig[], devices: readonly DeviceConfig[]) {
    for (const config of bridges) {
      this.#bridges.set(config.id, { config, base: config.baseTopic.replace(/\/+$/, ''), profile: PROFILES[config.profile], devices: new Map() });
    }
    for (const d of devices) {
      if (d.kind !== 'mqtt_mapped') continue;
      this.#bridges.get(d.bridge)?.devices.set(d.sourceName, d);
    }
  }

  /** The mapped device a bridge topic is about, or null (outside the base topic, bridge topics, unknown names). */
  matchTopic(bridgeId: string, topic: string): MqttMappedConfig | null {
    const r = this.#resolve(bridgeId, topic);
    return 'device' in r ? r.device : null;
  }

  /** Map one message of a bridge into events of its device. */
  map(bridgeId: string, topic: string, payload: Buffer, receivedAt: number): MapResult {
    const r = this.#resolve(bridgeId, topic);
    if ('error' in r) return { ok: false, reason: r.error };
    if ('ignored' in r) return { ok: true, deviceId: null, events: [], ignored: r.ignored };
    const { device, profile } = r;

    const decoded = decodeFields(profile, payload);
    if (!decoded.ok) return decoded;
    const { fields, text } = decoded;

    let last = this.#last.get(device.id);
    const snapshot = last === undefined;
    if (last === undefined) this.#last.set(device.id, (last = new Map()));

    const raw = rawExcerpt(text);
    const events: DeviceEvent[] = [];
    const emit = (row: ProfileRow, active: boolean, initial: boolean) => events.push(toEvent(device.id, row, fields, active, initial, receivedAt, raw));

    profile.rows.forEach((row, i) => {
      const status = statusOf(row, fields[row.field]);
      if (status === undefined) return;
      if (row.momentary) {
        if (status === 'active') emit(row, true, snapshot);
        return;
      }
      const prev = last.get(i);
      last.set(i, status);
      if (snapshot) {
        if (status === 'active') emit(row, true, true);
      } else if (status !== prev) {
        if (status === 'active') emit(row, true, false);
        else if (prev === 'active' && row.restore !== false) emit(row, false, false);
      }
    });
    return { ok: true, deviceId: device.id, events };
  }

  /** Forget what was last seen (all devices, or one): the next message is a snapshot again, e.g. after the bridge reconnects. */
  forget(deviceId?: string): void {
    if (deviceId === undefined) this.#last.clear();
    else this.#last.delete(deviceId);
  }

  #resolve(bridgeId: string, topic: string): Resolved {
    const bridge = this.#bridges.get(bridgeId);
    if (bridge === undefined) return { error: `no bridge ${show(bridgeId)} in mqttBridges` };
    if (!topic.startsWith(`${bridge.base}/`))
      return { error: `topic ${show(topic)} is outside the base topic ${show(bridge.base)} of bridge ${show(bridgeId)}` };
    const rest = topic.slice(bridge.base.length + 1);
    const { profile } = bridge;
    if (profile.ignore.some((re) => re.test(rest))) return { ignored: `${profile.name} topic ${show(topic)} carries no device data` };
    if (!rest.endsWith(profile.topicSuffix) || rest.length === profile.topicSuffix.length) {
      return { ignored: `topic ${show(topic)} is not a ${profile.name} device topic (<base>/<name>${profile.topicSuffix})` };
    }
    const name = rest.slice(0, rest.length - profile.topicSuffix.length);
    const device = bridge.devices.get(name);
    if (device === undefined) {
      return { error: `no mqtt_mapped device of bridge ${show(bridgeId)} has sourceName ${show(name)} (topic ${show(topic)})` };
    }
    if (!device.enabled) return { ignored: `device ${show(device.id)} (${show(name)}) is disabled` };
    return { device, profile };
  }
}

function decodeFields(profile: Profile, payload: Buffer): { ok: true; fields: Record<string, unknown>; text: string } | { ok: false; reason: string } {
  if (profile.payload.format === 'json') {
    const parsed = jsonObject(payload);
    return parsed.ok ? { ok: true, fields: parsed.value, text: payload.toString('utf8') } : parsed;
  }
  const text = payloadText(payload);
  if (!text.ok) return text;
  const value = text.value.trim();
  const { field, values, what } = profile.payload;
  if (!values.includes(value)) return { ok: false, reason: `${field}: ${show(value)} is not ${what} (known: ${values.join(', ')})` };
  return { ok: true, fields: { [field]: value }, text: value };
}

function statusOf(row: ProfileRow, value: unknown): Status | undefined {
  if (value === undefined) return undefined;
  if (row.activeWhen.includes(value as FieldValue)) return 'active';
  if (row.inactiveWhen?.includes(value as FieldValue)) return 'inactive';
  return undefined;
}

function toEvent(
  deviceId: string,
  row: ProfileRow,
  fields: Record<string, unknown>,
  active: boolean,
  initial: boolean,
  receivedAt: number,
  raw: string | undefined,
): DeviceEvent {
  let attrs: Record<string, unknown> = row.attrs;
  if (row.attrsFrom !== undefined) {
    const extra: Record<string, unknown> = { ...row.attrs };
    for (const [attr, field] of Object.entries(row.attrsFrom)) if (fields[field as string] !== undefined) extra[attr] = fields[field as string];
    // A value that does not fit the kind (e.g. battery 140) is left out, not an error.
    if (EVENT_KINDS[row.kind].attrs.safeParse(extra).success) attrs = extra;
  }
  return {
    deviceId,
    kind: row.kind,
    active,
    ...(row.source !== undefined ? { source: row.source } : {}),
    attrs: { ...attrs },
    deviceTime: null,
    receivedAt,
    clockOffsetMs: null,
    clockTrusted: false,
    ...(initial ? { initial: true } : {}),
    raw,
  } as DeviceEvent;
}
