import type { DeviceInfo } from '../../gateway/core/county.ts';
import { checkCoverage, type CoverageRule, type CoverageVillage } from '../../gateway/core/coverage.ts';

export interface SiteInfo {
  boxId: string;
  name: string;
  divisionCode: string;
  kind: string;
}

export interface Coverage {
  site: { name: string; divisionCode: string; kind: string };
  rule: CoverageRule | null;
  total: Counts & { byPoint: Record<string, number> };
  compliant: boolean | null;
  compliantOnline: boolean | null;
  missing: number | null;
  grids: (Counts & { grid: string; name: string; byPoint: Record<string, number> })[];
  /** The natural villages the installer recorded, each with its intersection cameras against the rule. */
  villages: { id: string; name: string; intersectionCameras: number; onlineIntersectionCameras: number; required: number; compliant: boolean }[];
  /** Why the site does not meet the rule, one line each (the installer's own check). */
  problems: string[];
}

interface Counts {
  cameras: number;
  intersectionCameras: number;
  onlineCameras: number;
}

/**
 * Camera points (监控点) against the rule installers are checked by (gateway/core/coverage.ts), with the counts
 * by grid, the natural villages the installer recorded, and whether the points online now still meet it.
 * Urban estates and organizations have no count rule: the counts are given, the verdict is null.
 */
export function coverage(
  site: SiteInfo,
  grids: readonly { code: string; name: string }[],
  devices: readonly DeviceInfo[],
  villages: readonly CoverageVillage[],
  online: (id: string) => boolean | null,
): Coverage {
  const cams = devices.filter((d) => d.kind === 'onvif_camera' && d.enabled);
  const count = (list: DeviceInfo[]) => {
    const byPoint: Record<string, number> = {};
    for (const c of list) byPoint[c.place.point] = (byPoint[c.place.point] ?? 0) + 1;
    return {
      cameras: list.length,
      intersectionCameras: list.filter((c) => c.place.point === 'intersection').length,
      onlineCameras: list.filter((c) => online(c.id) === true).length,
      byPoint,
    };
  };
  const total = count(cams);
  const check = checkCoverage(
    site.kind,
    cams.map((c) => ({ id: c.id, name: c.name, point: c.place.point })),
    villages,
  );
  // The same rule over the cameras online now (a village keeps only its online cameras).
  const isOnline = (id: string) => online(id) === true;
  const onlineCheck = checkCoverage(
    site.kind,
    cams.filter((c) => isOnline(c.id)).map((c) => ({ id: c.id, name: c.name, point: c.place.point })),
    villages.map((v) => ({ ...v, cameras: v.cameras.filter(isOnline) })),
  );
  return {
    site: { name: site.name, divisionCode: site.divisionCode, kind: site.kind },
    rule: check.rule,
    total,
    compliant: check.rule ? check.ok : null,
    compliantOnline: onlineCheck.rule ? onlineCheck.ok : null,
    missing: check.missing,
    grids: grids.map((g) => ({ grid: g.code, name: g.name, ...count(cams.filter((c) => c.grid === g.code)) })),
    villages: check.villages.map((v, i) => ({
      id: v.id,
      name: v.name,
      intersectionCameras: v.atIntersection,
      onlineIntersectionCameras: onlineCheck.villages[i]!.atIntersection,
      required: v.required,
      compliant: v.ok,
    })),
    problems: check.problems,
  };
}
