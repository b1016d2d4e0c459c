import type { DeviceInfo } from '../../gateway/core/county.ts';

export interface SiteInfo {
  boxId: string;
  name: string;
  divisionCode: string;
  kind: string;
}

export interface Coverage {
  site: { name: string; divisionCode: string; kind: string };
  rule: { text: string; counts: 'camera_points' | 'intersection_camera_points'; required: number } | null;
  total: Counts & { byPoint: Record<string, number> };
  compliant: boolean | null;
  compliantOnline: boolean | null;
  missing: number | null;
  grids: (Counts & { grid: string; name: string; byPoint: Record<string, number> })[];
}

interface Counts {
  cameras: number;
  intersectionCameras: number;
  onlineCameras: number;
}

/**
 * Camera points (监控点) against the rule installers are checked by: at least
 * 5 camera points per administrative village (行政村), and 2 at the main
 * intersections of each natural village (自然村). An enabled camera is one
 * point; an intersection camera is one whose point type is `intersection`.
 * Urban estates and organizations have no such count rule (their checks are
 * gates, perimeter and entrances): the counts are given, the verdict is null.
 */
export function coverage(
  site: SiteInfo,
  grids: readonly { code: string; name: string }[],
  devices: readonly DeviceInfo[],
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
  const rule =
    site.kind === 'admin_village'
      ? { text: '行政村: at least 5 camera points (每个行政村不少于5个监控点)', counts: 'camera_points' as const, required: 5 }
      : site.kind === 'natural_village'
        ? {
            text: '自然村: at least 2 camera points at the main intersections (自然村主要路口不少于2个监控点)',
            counts: 'intersection_camera_points' as const,
            required: 2,
          }
        : null;
  const have = rule ? (rule.counts === 'camera_points' ? total.cameras : total.intersectionCameras) : null;
  const haveOnline = rule
    ? rule.counts === 'camera_points'
      ? total.onlineCameras
      : cams.filter((c) => c.place.point === 'intersection' && online(c.id) === true).length
    : null;
  return {
    site: { name: site.name, divisionCode: site.divisionCode, kind: site.kind },
    rule,
    total,
    compliant: rule && have !== null ? have >= rule.required : null,
    compliantOnline: rule && haveOnline !== null ? haveOnline >= rule.required : null,
    missing: rule && have !== null ? Math.max(0, rule.required - have) : null,
    grids: grids.map((g) => ({ grid: g.code, name: g.name, ...count(cams.filter((c) => c.grid === g.code)) })),
  };
}
