import { createHmac } from 'node:crypto';
import { DeviceSchema, MqttBridgeSchema } from '../../../config/schema/devices.ts';
import type { DeviceConfig, MqttBridgeConfig } from '../../../config/schema.ts';
import { DeviceEventSchema, type DeviceEvent } from '../../../gateway/core/events.ts';

const common = { grid: '320602001001-01', place: { building: '3栋', point: 'entrance' as const } };

export const panel = DeviceSchema.parse({
  ...common,
  kind: 'alarm_panel',
  id: 'panel-1',
  name: '周界主机',
  password: 'panel-1-password',
  zones: [
    { number: 4, name: '东侧围墙', type: 'perimeter' },
    { number: 7, name: '车库', type: 'intrusion' },
  ],
});
export const door = DeviceSchema.parse({
  ...common,
  kind: 'access_controller',
  id: 'door-3-1',
  name: '3栋门禁',
  password: 'door-password',
  door: { name: '3栋2单元门' },
});
export const sos = DeviceSchema.parse({ ...common, kind: 'sos_button', id: 'sos-01', name: '一键报警', password: 'sos-01-password', household: '3栋2单元501' });
export const smokeSensor = DeviceSchema.parse({ ...common, kind: 'sensor', id: 'smoke-1', name: '烟感', password: 'smoke-password', sensorType: 'smoke' });
export const siren = DeviceSchema.parse({ ...common, kind: 'siren', id: 'siren-1', name: '声光', password: 'siren-password', maxDurationSeconds: 120 });
export const speaker = DeviceSchema.parse({
  ...common,
  kind: 'loudspeaker',
  id: 'speaker-1',
  name: '广播',
  password: 'speaker-password',
  clips: [
    { id: 'no-climbing', name: '请勿翻越围墙' },
    { id: 'leave-now', name: '请立即离开' },
  ],
});
export const camera = DeviceSchema.parse({
  ...common,
  kind: 'onvif_camera',
  id: 'cam-1',
  name: '北门',
  host: '192.168.1.64',
  username: 'onvif',
  password: 'cam-password',
});

export const bridges: MqttBridgeConfig[] = [
  MqttBridgeSchema.parse({ id: 'z2m', profile: 'zigbee2mqtt', password: 'z2m-password' }),
  MqttBridgeSchema.parse({ id: 'ha', profile: 'ha_alarm_panel', baseTopic: 'home/alarm', password: 'ha-password' }),
];
const mapped = (id: string, bridge: string, profile: string, sourceName: string, extra: object = {}) =>
  DeviceSchema.parse({ ...common, kind: 'mqtt_mapped', id, name: id, profile, bridge, sourceName, ...extra });
export const mappedDevices: DeviceConfig[] = [
  mapped('z-door', 'z2m', 'zigbee2mqtt', 'hall_door'),
  mapped('z-pir', 'z2m', 'zigbee2mqtt', 'garage/pir'),
  mapped('z-sos', 'z2m', 'zigbee2mqtt', 'sos_button_501'),
  mapped('z-off', 'z2m', 'zigbee2mqtt', 'spare', { enabled: false }),
  mapped('ha-panel', 'ha', 'ha_alarm_panel', 'house'),
  panel, // not mapped: ignored by the mapper
];

export const SALT = 'test-salt';
export const hashCredential = (raw: string) => createHmac('sha256', SALT).update(raw).digest('hex');

export const NOW = 1_795_248_000_000;

export const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** Every event must be a valid DeviceEvent. */
export function valid(events: DeviceEvent[]): DeviceEvent[] {
  for (const e of events) DeviceEventSchema.parse(e);
  return events;
}
