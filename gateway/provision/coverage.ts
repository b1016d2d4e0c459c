import type { SiteConfig } from '../../config/schema.ts';
import { POINT_TYPES, type PointType } from '../../config/schema/devices.ts';
import type { NaturalVillage } from '../store/provisioning.ts';

/** Camera points the rule asks for (DOMAIN.md): at least 5 per 行政村, 2 at the main intersections of each 自然村. */
export const PER_ADMIN_VILLAGE = 5;
export const PER_NATURAL_VILLAGE = 2;

export interface CoverageReport {
  siteKind: SiteConfig['site']['kind'];
  /** Whether the camera-point rule applies to this kind of site. */
  ruleApplies: boolean;
  cameras: number;
  required: number | null;
  ok: boolean;
  byPoint: Record<PointType, number>;
  villages: {
    id: string;
    name: string;
    cameras: { id: string; name: string; point: PointType | null }[];
    atIntersection: number;
    required: number;
    ok: boolean;
  }[];
  problems: string[];
}

/** Check the site's enabled cameras against the rule; natural villages and their cameras are what the installer recorded. */
export function coverage(cfg: SiteConfig, villages: readonly NaturalVillage[]): CoverageReport {
  const cams = cfg.devices.filter((d) => d.kind === 'onvif_camera' && d.enabled);
  const byId = new Map(cams.map((c) => [c.id, c]));
  const byPoint = Object.fromEntries(POINT_TYPES.map((p) => [p, cams.filter((c) => c.place.point === p).length])) as Record<PointType, number>;
  const kind = cfg.site.kind;
  const problems: string[] = [];
  const vs = villages.map((v) => {
    const list = v.cameras.map((id) => ({ id, name: byId.get(id)?.name ?? id, point: byId.get(id)?.place.point ?? null }));
    const atIntersection = list.filter((c) => c.point === 'intersection').length;
    const ok = atIntersection >= PER_NATURAL_VILLAGE;
    if (!ok) problems.push(`${v.name}: ${atIntersection} camera(s) at main intersections, needs ${PER_NATURAL_VILLAGE} (自然村主要路口不少于2路)`);
    for (const c of list) if (!byId.has(c.id)) problems.push(`${v.name}: ${c.id} is not an enabled camera of this site`);
    return { id: v.id, name: v.name, cameras: list, atIntersection, required: PER_NATURAL_VILLAGE, ok };
  });
  let required: number | null = null;
  if (kind === 'admin_village') {
    required = PER_ADMIN_VILLAGE;
    if (cams.length < required) problems.push(`${cams.length} camera point(s), an administrative village needs at least ${required} (行政村不少于5路)`);
    if (villages.length === 0) problems.push('no natural villages (自然村) recorded: add each with the cameras at its main intersections');
  } else if (kind === 'natural_village' && villages.length === 0) {
    // The site is one natural village: its own intersections count.
    required = PER_NATURAL_VILLAGE;
    if (byPoint.intersection < required) problems.push(`${byPoint.intersection} camera(s) at main intersections, a natural village needs ${required}`);
  }
  const ruleApplies = kind === 'admin_village' || kind === 'natural_village';
  return { siteKind: kind, ruleApplies, cameras: cams.length, required, ok: problems.length === 0, byPoint, villages: vs, problems };
}
