/** Turning a loaded site config into simulator specs (the only thing simulators take from config/). */
import type { SiteConfig } from '../../config/schema.ts';
import type { SimDeviceSpec } from './types.ts';

export interface SpecsFromSiteOptions {
  /** Also simulate devices with `enabled: false` (the box refuses them: CONNACK 5). Default false. */
  includeDisabled?: boolean;
}

/** The site's own-password MQTT devices (not cameras, not mapped devices) as simulator specs. */
export function specsFromSite(config: SiteConfig, opts: SpecsFromSiteOptions = {}): SimDeviceSpec[] {
  const specs: SimDeviceSpec[] = [];
  for (const d of config.devices) {
    if (!d.enabled && !opts.includeDisabled) continue;
    switch (d.kind) {
      case 'alarm_panel':
        specs.push({ id: d.id, kind: d.kind, password: d.password.reveal(), zones: d.zones.map((z) => ({ number: z.number, type: z.type })) });
        break;
      case 'access_controller':
        specs.push({ id: d.id, kind: d.kind, password: d.password.reveal(), heldOpenSeconds: d.heldOpenSeconds });
        break;
      case 'sensor':
        specs.push({ id: d.id, kind: d.kind, password: d.password.reveal(), sensorType: d.sensorType });
        break;
      case 'siren':
        specs.push({ id: d.id, kind: d.kind, password: d.password.reveal(), maxDurationSeconds: d.maxDurationSeconds });
        break;
      case 'loudspeaker':
        specs.push({ id: d.id, kind: d.kind, password: d.password.reveal(), clips: d.clips.map((c) => ({ id: c.id })) });
        break;
      case 'sos_button':
        specs.push({ id: d.id, kind: d.kind, password: d.password.reveal() });
        break;
      default:
        break;
    }
  }
  return specs;
}
