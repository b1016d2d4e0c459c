/** Devices: one entry per configured thing, a discriminated union on `kind`. */
import { z } from 'zod';
import { hostSchema, idSchema, intSchema, nameSchema, portSchema, quote } from './common.ts';
import { secretSchema, verifierSchema } from './secret.ts';

export const POINT_TYPES = ['gate', 'perimeter', 'entrance', 'intersection', 'public_area'] as const;
export const PointTypeSchema = z
  .enum(POINT_TYPES)
  .describe('Type of point (点位): gate (出入口), perimeter (周界), entrance (楼栋/车库入口), intersection (路口), public_area (公共区域).');
export type PointType = z.output<typeof PointTypeSchema>;

export const DEVICE_KINDS = ['onvif_camera', 'alarm_panel', 'access_controller', 'sos_button', 'sensor', 'siren', 'loudspeaker', 'mqtt_mapped'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const MAPPING_PROFILES = ['zigbee2mqtt', 'ha_alarm_panel'] as const;
export const MappingProfileSchema = z
  .enum(MAPPING_PROFILES)
  .describe('Mapping profile that turns a third-party payload into events: zigbee2mqtt or ha_alarm_panel.');
export type MappingProfile = z.output<typeof MappingProfileSchema>;

export const PlaceSchema = z
  .strictObject({
    building: nameSchema('Building (楼栋), e.g. "3栋"; optional', 32).optional(),
    unit: nameSchema('Unit (单元), e.g. "2单元"; optional', 32).optional(),
    point: PointTypeSchema,
  })
  .describe('Where the device is: building, unit and point type.');
export type PlaceConfig = z.output<typeof PlaceSchema>;

export const GbIdSchema = z
  .string()
  .superRefine((v, ctx) => {
    if (!/^\d{20}$/.test(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a 20-digit GB/T 28181 id, got ${quote(v)} (${v.length} characters)`,
      });
    }
  })
  .describe(
    'GB/T 28181 20-digit device id issued by the county (optional): 6-digit division + 2 + industry 2 + type 3 (131/132 camera, 117 alarm controller, 134 alarm input, 124/142 access control) + network 1 + serial 6. Write it in quotes.',
  );

const deviceIdRef = z.string().describe('Id of an onvif_camera device in this file.');

const LinkedCamerasSchema = z
  .array(deviceIdRef)
  .default([])
  .describe("Cameras whose snapshots/presets go with this device's alarms: ids of onvif_camera devices (default []).");

const common = {
  id: idSchema('Device id, unique across devices; also the MQTT username and part of topics (2..64 of a-z 0-9 - _).'),
  name: nameSchema('Name people see, e.g. 北门入口'),
  grid: z.string().describe('Code of the grid (网格) the device belongs to; must be one of `grids`.'),
  place: PlaceSchema,
  gbId: GbIdSchema.optional(),
  enabled: z.boolean().default(true).describe('false: configured but not connected or monitored (default true).'),
  maintenance: z.boolean().default(false).describe('true: under maintenance; its events are stored but raise no alarms (default false).'),
  linkedCameras: LinkedCamerasSchema,
};

const mqttPassword = verifierSchema('MQTT password of the device (its MQTT username is its id).');

export const OnvifCameraSchema = z
  .strictObject({
    kind: z.literal('onvif_camera').describe('An IP camera spoken to over ONVIF (摄像机).'),
    ...common,
    host: hostSchema('IPv4 address or host name of the camera.'),
    port: portSchema(80, "TCP port of the camera's ONVIF HTTP service"),
    username: nameSchema('ONVIF user name on the camera'),
    password: secretSchema('ONVIF password on the camera.'),
    ptz: z.boolean().default(false).describe('The camera can pan/tilt/zoom and may be sent to presets (default false).'),
    eventsEnabled: z.boolean().default(true).describe('Subscribe to ONVIF events via PullPoint (default true).'),
    snapshot: z.boolean().default(true).describe('Fetch snapshots as alarm evidence (default true).'),
  })
  .describe('ONVIF IP camera (摄像机).');
export type OnvifCameraConfig = z.output<typeof OnvifCameraSchema>;

export const ZONE_TYPES = ['intrusion', 'perimeter', 'fire', 'panic'] as const;
export const ZoneSchema = z
  .strictObject({
    number: z.number().int().min(1).max(999).describe('Zone number on the panel (1..999), unique within the panel.'),
    name: nameSchema('Zone name, e.g. 东侧围墙'),
    type: z.enum(ZONE_TYPES).describe('Zone type: intrusion (入侵), perimeter (周界), fire (消防), panic (紧急求助).'),
    linkedCameras: LinkedCamerasSchema,
  })
  .describe('One zone (防区) of an alarm panel.');
export type ZoneConfig = z.output<typeof ZoneSchema>;

export const AlarmPanelSchema = z
  .strictObject({
    kind: z.literal('alarm_panel').describe('An alarm panel (报警主机) over MQTT.'),
    ...common,
    password: mqttPassword,
    zones: z.array(ZoneSchema).min(1).describe('Zones (防区) of the panel; at least one.'),
  })
  .describe('Alarm panel (报警主机) over MQTT.');
export type AlarmPanelConfig = z.output<typeof AlarmPanelSchema>;

export const AccessControllerSchema = z
  .strictObject({
    kind: z.literal('access_controller').describe('A door access controller (门禁) over MQTT.'),
    ...common,
    password: mqttPassword,
    door: z.strictObject({ name: nameSchema('Door name, e.g. 3栋2单元门') }).describe('The door it controls.'),
    heldOpenSeconds: intSchema(5, 3600, 60, 'Seconds a door may stay open before door_held_open'),
  })
  .describe('Access controller (门禁) over MQTT.');
export type AccessControllerConfig = z.output<typeof AccessControllerSchema>;

export const SosButtonSchema = z
  .strictObject({
    kind: z.literal('sos_button').describe('A one-key household alarm (一键报警) over MQTT.'),
    ...common,
    password: mqttPassword,
    household: nameSchema('Household it is installed in, e.g. "3栋2单元501"; shown to guards, never on public boards'),
    group: nameSchema('十户联防 group name (optional), e.g. 东片第3组').optional(),
  })
  .describe('One-key SOS button (一键报警 / 十户联防).');
export type SosButtonConfig = z.output<typeof SosButtonSchema>;

export const SENSOR_TYPES = ['smoke', 'water_leak', 'gas', 'contact', 'pir'] as const;
export const SensorSchema = z
  .strictObject({
    kind: z.literal('sensor').describe('A sensor over MQTT.'),
    ...common,
    password: mqttPassword,
    sensorType: z.enum(SENSOR_TYPES).describe('What it senses: smoke (烟感), water_leak (水浸), gas (燃气), contact (门磁), pir (红外).'),
  })
  .describe('Sensor (探测器) over MQTT.');
export type SensorConfig = z.output<typeof SensorSchema>;

export const SirenSchema = z
  .strictObject({
    kind: z.literal('siren').describe('A siren / strobe (声光报警器) over MQTT.'),
    ...common,
    password: mqttPassword,
    maxDurationSeconds: intSchema(1, 1800, 180, 'Longest the siren may sound per command'),
  })
  .describe('Siren (声光报警器) over MQTT.');
export type SirenConfig = z.output<typeof SirenSchema>;

export const LoudspeakerSchema = z
  .strictObject({
    kind: z.literal('loudspeaker').describe('A loudspeaker (广播喊话) over MQTT.'),
    ...common,
    password: mqttPassword,
    clips: z
      .array(
        z.strictObject({
          id: idSchema('Clip id as the loudspeaker knows it.'),
          name: nameSchema('Clip name, e.g. 请勿翻越围墙'),
        }),
      )
      .default([])
      .describe('Pre-recorded clips the panel may play (default []).'),
  })
  .describe('Loudspeaker (广播喊话) over MQTT.');
export type LoudspeakerConfig = z.output<typeof LoudspeakerSchema>;

export const MqttMappedSchema = z
  .strictObject({
    kind: z.literal('mqtt_mapped').describe('A third-party device behind an MQTT bridge, read through a mapping profile.'),
    ...common,
    profile: MappingProfileSchema,
    bridge: z.string().describe('Id of an entry in `mqttBridges`.'),
    sourceName: nameSchema("The device's friendly_name / entity name on that bridge", 128),
  })
  .describe('Third-party device behind a mapping profile (e.g. a zigbee2mqtt sensor).');
export type MqttMappedConfig = z.output<typeof MqttMappedSchema>;

export const DeviceSchema = z
  .discriminatedUnion('kind', [
    OnvifCameraSchema,
    AlarmPanelSchema,
    AccessControllerSchema,
    SosButtonSchema,
    SensorSchema,
    SirenSchema,
    LoudspeakerSchema,
    MqttMappedSchema,
  ])
  .describe(`One device; \`kind\` is one of ${DEVICE_KINDS.join(', ')}.`);
export type DeviceConfig = z.output<typeof DeviceSchema>;
/** Devices that connect to the box's broker with their own password. */
export type MqttDeviceConfig = Exclude<DeviceConfig, OnvifCameraConfig | MqttMappedConfig>;

export const DevicesSchema = z.array(DeviceSchema).describe('Devices of the site; ids unique.');

export const MqttBridgeSchema = z
  .strictObject({
    id: idSchema('Bridge id; also its MQTT username (2..64 of a-z 0-9 - _). Unique, and not a device id.'),
    profile: MappingProfileSchema,
    baseTopic: z
      .string()
      .regex(/^[^#+]+$/, { error: (iss) => `${quote(iss.input)} is not a valid base topic (no + or #)` })
      .default('zigbee2mqtt')
      .describe('Base topic the bridge publishes under (default "zigbee2mqtt").'),
    password: verifierSchema('MQTT password of the bridge.'),
  })
  .describe('A third-party bridge (e.g. a zigbee2mqtt instance) connecting to the box with its own account.');
export type MqttBridgeConfig = z.output<typeof MqttBridgeSchema>;

export const MqttBridgesSchema = z.array(MqttBridgeSchema).default([]).describe('Third-party MQTT bridges (default []).');
