/**
 * The one truth about what a site is: the root schema, assembled from one
 * schema per area under ./schema/. `SiteConfig` is the parsed output, with
 * defaults filled in and secrets resolved to `Secret` instances.
 *
 * Parse through `parseConfig` / `loadConfigFile` (./load.ts): they resolve
 * secrets against the right environment and folder, and turn issues into
 * installer-readable problems.
 */
import { z } from 'zod';
import { crossCheck } from './crosscheck.ts';
import { BrokerSchema } from './schema/broker.ts';
import { CountyApiSchema } from './schema/county-api.ts';
import { DevicesSchema, MqttBridgesSchema } from './schema/devices.ts';
import { LoggingSchema } from './schema/logging.ts';
import { PanelSchema } from './schema/panel.ts';
import { RulesSchema } from './schema/rules.ts';
import { GridsSchema, SiteSchema } from './schema/site.ts';
import { StorageSchema } from './schema/storage.ts';
import { UpstreamSchema } from './schema/upstream.ts';

export const SiteConfigSchema = z
  .strictObject({
    demo: z
      .boolean()
      .default(false)
      .describe('true only for the loopback demo: demo secrets are then allowed and every listen host must be loopback (default false).'),
    site: SiteSchema,
    grids: GridsSchema,
    devices: DevicesSchema,
    mqttBridges: MqttBridgesSchema,
    upstream: UpstreamSchema.prefault({}),
    countyApi: CountyApiSchema.prefault({}),
    panel: PanelSchema.prefault({}),
    broker: BrokerSchema.prefault({}),
    storage: StorageSchema.prefault({}),
    rules: RulesSchema.prefault({}),
    logging: LoggingSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    for (const p of crossCheck(cfg)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message, params: p.hint ? { hint: p.hint } : undefined });
  })
  .describe('Shouwang site configuration.');

/** A parsed config: defaults filled in, secrets resolved. */
export type SiteConfig = z.output<typeof SiteConfigSchema>;
/** What a config file may contain. */
export type SiteConfigInput = z.input<typeof SiteConfigSchema>;

export type { SiteKind, SiteInfo, GridConfig } from './schema/site.ts';
export type {
  DeviceKind,
  PointType,
  PlaceConfig,
  DeviceConfig,
  MqttDeviceConfig,
  OnvifCameraConfig,
  AlarmPanelConfig,
  ZoneConfig,
  AccessControllerConfig,
  SosButtonConfig,
  SensorConfig,
  SirenConfig,
  LoudspeakerConfig,
  MqttMappedConfig,
  MqttBridgeConfig,
  MappingProfile,
} from './schema/devices.ts';
export type { UpstreamConfig, CountyUpstreamConfig, CountyAuthConfig } from './schema/upstream.ts';
export type { CountyApiConfig } from './schema/county-api.ts';
export type { PanelConfig } from './schema/panel.ts';
export type { BrokerConfig } from './schema/broker.ts';
export type { StorageConfig } from './schema/storage.ts';
export type { RulesConfig } from './schema/rules.ts';
export type { LoggingConfig } from './schema/logging.ts';

export { Secret } from './schema/secret.ts';
export { DEVICE_KINDS, POINT_TYPES, SENSOR_TYPES, ZONE_TYPES, MAPPING_PROFILES } from './schema/devices.ts';
export { SITE_KINDS } from './schema/site.ts';
export { LOG_LEVELS } from './schema/logging.ts';
export { DEFAULT_FORWARD_EVENT_KINDS } from './schema/upstream.ts';
