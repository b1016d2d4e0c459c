/** Turning a loaded site config into camera specs (the only thing this simulator takes from config/). */
import type { SiteConfig } from '../../config/schema.ts';
import { FLAVOURS, type CameraSpec, type Flavour } from './types.ts';

export interface CameraSpecsOptions {
  /** One flavour for all, or 'mixed' (standard, hikvision, dahua in turn). Default standard. */
  flavour?: Flavour | 'mixed';
  /** Ignore the site's ports and take free ones (the caller reads them back). */
  anyPort?: boolean;
}

export function cameraSpecsFromSite(config: SiteConfig, o: CameraSpecsOptions = {}): CameraSpec[] {
  const specs: CameraSpec[] = [];
  for (const d of config.devices) {
    if (d.kind !== 'onvif_camera' || !d.enabled) continue;
    const flavour = o.flavour === 'mixed' ? FLAVOURS[specs.length % FLAVOURS.length]! : (o.flavour ?? 'standard');
    specs.push({
      id: d.id,
      port: o.anyPort ? 0 : d.port,
      username: d.username,
      password: d.password.reveal(),
      name: d.name,
      flavour,
      ptz: d.ptz,
      location: d.place.point,
    });
  }
  return specs;
}
