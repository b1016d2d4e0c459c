import { randomInt } from 'node:crypto';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { SiteConfig } from '../../config/schema.ts';
import { MAPPING_PROFILES, POINT_TYPES, SENSOR_TYPES, ZONE_TYPES } from '../../config/schema/devices.ts';
import { hashSecret } from '../../config/schema/secret.ts';
import { topicsFor } from '../../device-drivers/mqtt/topics.ts';

/** Kinds an installer adds from the panel over MQTT (cameras come through discovery). */
export const MQTT_KINDS = ['alarm_panel', 'access_controller', 'sos_button', 'sensor', 'siren', 'loudspeaker', 'mqtt_mapped'] as const;

const idPattern = /^[a-z0-9][a-z0-9_-]{1,63}$/;

/** What the add-device form sends (checked again by the site schema once it is part of the file). */
export const NewMqttDeviceSchema = z.object({
  kind: z.enum(MQTT_KINDS),
  id: z.string().regex(idPattern, 'an id is 2..64 of a-z 0-9 - _').optional(),
  name: z.string().trim().min(1).max(64),
  grid: z.string().min(1).max(40),
  place: z.object({ building: z.string().trim().max(32).optional(), unit: z.string().trim().max(32).optional(), point: z.enum(POINT_TYPES) }),
  gbId: z
    .string()
    .regex(/^\d{20}$/, 'a GB/T 28181 id is 20 digits')
    .optional(),
  linkedCameras: z.array(z.string()).max(20).optional(),
  door: z.string().trim().min(1).max(64).optional(),
  household: z.string().trim().min(1).max(64).optional(),
  group: z.string().trim().min(1).max(64).optional(),
  sensorType: z.enum(SENSOR_TYPES).optional(),
  zones: z
    .array(z.object({ number: z.number().int().min(1).max(999), name: z.string().trim().min(1).max(64), type: z.enum(ZONE_TYPES) }))
    .max(999)
    .optional(),
  profile: z.enum(MAPPING_PROFILES).optional(),
  bridge: z.string().max(64).optional(),
  sourceName: z.string().trim().min(1).max(128).optional(),
});
export type NewMqttDevice = z.output<typeof NewMqttDeviceSchema>;

const PREFIX: Record<(typeof MQTT_KINDS)[number], string> = {
  alarm_panel: 'panel',
  access_controller: 'door',
  sos_button: 'sos',
  sensor: 'sensor',
  siren: 'siren',
  loudspeaker: 'speaker',
  mqtt_mapped: 'mapped',
};

/** A password for a device: 20 characters from an alphabet without look-alikes (about 100 bits). */
export function devicePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  return Array.from({ length: 20 }, () => alphabet[randomInt(alphabet.length)]).join('');
}

function freeId(kind: (typeof MQTT_KINDS)[number], taken: Set<string>): string {
  for (let n = 1; n < 10_000; n++) {
    const id = `${PREFIX[kind]}-${String(n).padStart(2, '0')}`;
    if (!taken.has(id)) return id;
  }
  throw new Error('no free device id');
}

/** Problems with a new device that need the rest of the site to see (kind fields, unknown grid or camera, taken id). */
export function newDeviceProblems(d: NewMqttDevice, cfg: SiteConfig): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const ids = new Set([...cfg.devices.map((x) => x.id), ...cfg.mqttBridges.map((b) => b.id)]);
  if (d.id && ids.has(d.id)) out.push({ path: 'id', message: `${d.id} is taken by another device or bridge` });
  if (!cfg.grids.some((g) => g.code === d.grid)) out.push({ path: 'grid', message: `no grid ${d.grid}; grids: ${cfg.grids.map((g) => g.code).join(', ')}` });
  const cams = new Set(cfg.devices.filter((x) => x.kind === 'onvif_camera').map((x) => x.id));
  for (const c of d.linkedCameras ?? []) if (!cams.has(c)) out.push({ path: 'linkedCameras', message: `${c} is not a camera of this site` });
  if (d.kind === 'access_controller' && !d.door) out.push({ path: 'door', message: 'an access controller needs the name of its door' });
  if (d.kind === 'sos_button' && !d.household) out.push({ path: 'household', message: 'an SOS button needs its household' });
  if (d.kind === 'sensor' && !d.sensorType) out.push({ path: 'sensorType', message: 'a sensor needs its type' });
  if (d.kind === 'alarm_panel' && !d.zones?.length) out.push({ path: 'zones', message: 'an alarm panel needs at least one zone' });
  if (d.kind === 'mqtt_mapped') {
    if (!d.profile) out.push({ path: 'profile', message: 'pick a mapping profile' });
    if (!d.bridge || !cfg.mqttBridges.some((b) => b.id === d.bridge))
      out.push({ path: 'bridge', message: `pick one of the site's bridges: ${cfg.mqttBridges.map((b) => b.id).join(', ') || '(none configured)'}` });
    if (!d.sourceName) out.push({ path: 'sourceName', message: "the device's name on the bridge (friendly_name)" });
  }
  return out;
}

/** The site-file entry for a new device, with a generated password kept only as its scrypt hash. */
export function deviceEntry(d: NewMqttDevice, cfg: SiteConfig): { entry: Record<string, unknown>; id: string; password: string | null } {
  const taken = new Set([...cfg.devices.map((x) => x.id), ...cfg.mqttBridges.map((b) => b.id)]);
  const id = d.id ?? freeId(d.kind, taken);
  const place = Object.fromEntries(Object.entries(d.place).filter(([, v]) => v !== undefined && v !== ''));
  const entry: Record<string, unknown> = { id, kind: d.kind, name: d.name, grid: d.grid, place };
  if (d.gbId) entry.gbId = d.gbId;
  if (d.linkedCameras?.length) entry.linkedCameras = d.linkedCameras;
  let password: string | null = null;
  if (d.kind !== 'mqtt_mapped') {
    password = devicePassword();
    entry.password = { scrypt: hashSecret(password) };
  }
  if (d.kind === 'access_controller') entry.door = { name: d.door };
  if (d.kind === 'sos_button') Object.assign(entry, { household: d.household, ...(d.group ? { group: d.group } : {}) });
  if (d.kind === 'sensor') entry.sensorType = d.sensorType;
  if (d.kind === 'alarm_panel') entry.zones = d.zones;
  if (d.kind === 'mqtt_mapped') Object.assign(entry, { profile: d.profile, bridge: d.bridge, sourceName: d.sourceName });
  return { entry, id, password };
}

export interface ConnectionSettings {
  host: string;
  port: number;
  tlsPort: number | null;
  protocol: 'MQTT 3.1.1';
  clientId: string;
  username: string;
  password: string | null;
  keepaliveSeconds: number;
  cleanSession: boolean;
  topics: { event: string; state: string; status: string; cmd: string; cmdAck: string } | { bridgeTopic: string };
  will: { topic: string; payload: string; qos: 1; retain: true } | null;
}

/** What the device (or its installer app) needs to connect, per docs/mqtt-contract.md. */
export function connectionSettings(
  id: string,
  password: string | null,
  cfg: SiteConfig,
  host: string,
  ports: { port: number; tls: boolean }[],
  mapped?: { bridge: string; sourceName: string },
): ConnectionSettings {
  const plain = ports.find((p) => !p.tls)?.port ?? cfg.broker.port;
  const tls = ports.find((p) => p.tls)?.port ?? null;
  if (mapped) {
    const b = cfg.mqttBridges.find((x) => x.id === mapped.bridge);
    return {
      host,
      port: plain,
      tlsPort: tls,
      protocol: 'MQTT 3.1.1',
      clientId: mapped.bridge,
      username: mapped.bridge,
      password: null,
      keepaliveSeconds: 60,
      cleanSession: false,
      topics: { bridgeTopic: `${b?.baseTopic ?? 'zigbee2mqtt'}/${mapped.sourceName}` },
      will: null,
    };
  }
  const t = topicsFor(id);
  return {
    host,
    port: plain,
    tlsPort: tls,
    protocol: 'MQTT 3.1.1',
    clientId: id,
    username: id,
    password,
    keepaliveSeconds: 60,
    cleanSession: false,
    topics: t,
    will: { topic: t.status, payload: 'offline', qos: 1, retain: true },
  };
}

/** The QR code (SVG, made on the box) holding the settings as compact JSON, for a phone or a provisioning tool to scan. */
export function connectionQr(s: ConnectionSettings): Promise<string> {
  const payload = JSON.stringify({
    v: 1,
    proto: 'mqtt311',
    host: s.host,
    port: s.port,
    ...(s.tlsPort ? { tls: s.tlsPort } : {}),
    id: s.clientId,
    user: s.username,
    ...(s.password ? { pass: s.password } : {}),
    ...('event' in s.topics ? { base: s.topics.event.replace(/\/event$/, '/') } : { topic: s.topics.bridgeTopic }),
  });
  return QRCode.toString(payload, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
}
