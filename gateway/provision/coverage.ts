import type { SiteConfig } from '../../config/schema.ts';
import { POINT_TYPES, type PointType } from '../../config/schema/devices.ts';
import { checkCoverage, type CoverageCheck } from '../core/coverage.ts';
import type { NaturalVillage } from '../store/provisioning.ts';

export interface CoverageReport extends CoverageCheck {
  siteKind: SiteConfig['site']['kind'];
  byPoint: Record<PointType, number>;
}

/** The site's enabled cameras against the camera-point rule (core/coverage.ts), with the natural villages the installer recorded. */
export function coverage(cfg: SiteConfig, villages: readonly NaturalVillage[]): CoverageReport {
  const cams = cfg.devices.filter((d) => d.kind === 'onvif_camera' && d.enabled);
  const byPoint = Object.fromEntries(POINT_TYPES.map((p) => [p, cams.filter((c) => c.place.point === p).length])) as Record<PointType, number>;
  const check = checkCoverage(
    cfg.site.kind,
    cams.map((c) => ({ id: c.id, name: c.name, point: c.place.point })),
    villages,
  );
  return { siteKind: cfg.site.kind, byPoint, ...check };
}
