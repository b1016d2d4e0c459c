/**
 * The camera-point rule (DOMAIN.md) installers are checked by and the county reads: at least 5 camera points
 * (监控点) per administrative village (行政村), and 2 at the main intersections of each natural village (自然村).
 * An enabled camera is one point; an intersection camera is one whose point type is `intersection`. Urban
 * estates and organizations have no count rule. One check, used by the installer's coverage page, the
 * acceptance report and the county's GET /coverage.
 */
export const PER_ADMIN_VILLAGE = 5;
export const PER_NATURAL_VILLAGE = 2;

export interface CoverageRule {
  text: string;
  /** What the site as a whole is counted by. */
  counts: 'camera_points' | 'intersection_camera_points';
  required: number;
}

/** The site-level rule for a kind of site; null for urban estates and organizations. */
export function coverageRule(siteKind: string): CoverageRule | null {
  if (siteKind === 'admin_village')
    return { text: '行政村: at least 5 camera points (每个行政村不少于5个监控点)', counts: 'camera_points', required: PER_ADMIN_VILLAGE };
  if (siteKind === 'natural_village')
    return {
      text: '自然村: at least 2 camera points at the main intersections (自然村主要路口不少于2个监控点)',
      counts: 'intersection_camera_points',
      required: PER_NATURAL_VILLAGE,
    };
  return null;
}

export interface CoverageCamera {
  id: string;
  name: string;
  point: string;
}

export interface CoverageVillage {
  id: string;
  name: string;
  /** Cameras at its main intersections, as the installer recorded them. */
  cameras: readonly string[];
}

export interface CoverageCheck {
  /** The site-level rule for this kind of site; null when none applies (urban estates, organizations). */
  rule: CoverageRule | null;
  cameras: number;
  /** Points the site as a whole needs; null when only its natural villages are counted, or no rule applies. */
  required: number | null;
  ok: boolean;
  /**
   * The fewest cameras still to add: the site's own shortfall or the recorded natural villages' intersection
   * shortfalls together, whichever is more (a camera added at a village intersection counts for the site too).
   * Recording the natural villages is not counted here; `problems` says so. Null when no rule applies.
   */
  missing: number | null;
  villages: {
    id: string;
    name: string;
    cameras: { id: string; name: string; point: string | null }[];
    atIntersection: number;
    required: number;
    ok: boolean;
  }[];
  problems: string[];
}

/** Check a site's enabled cameras (and the natural villages the installer recorded) against the rule. */
export function checkCoverage(siteKind: string, cameras: readonly CoverageCamera[], villages: readonly CoverageVillage[]): CoverageCheck {
  const byId = new Map(cameras.map((c) => [c.id, c]));
  const problems: string[] = [];
  const vs = villages.map((v) => {
    const list = v.cameras.map((id) => ({ id, name: byId.get(id)?.name ?? id, point: byId.get(id)?.point ?? null }));
    const atIntersection = list.filter((c) => c.point === 'intersection').length;
    const ok = atIntersection >= PER_NATURAL_VILLAGE;
    if (!ok) problems.push(`${v.name}: ${atIntersection} camera(s) at main intersections, needs ${PER_NATURAL_VILLAGE} (自然村主要路口不少于2路)`);
    for (const c of list) if (!byId.has(c.id)) problems.push(`${v.name}: ${c.id} is not an enabled camera of this site`);
    return { id: v.id, name: v.name, cameras: list, atIntersection, required: PER_NATURAL_VILLAGE, ok };
  });
  let required: number | null = null;
  let siteShort = 0;
  if (siteKind === 'admin_village') {
    required = PER_ADMIN_VILLAGE;
    siteShort = Math.max(0, required - cameras.length);
    if (cameras.length < required) problems.push(`${cameras.length} camera point(s), an administrative village needs at least ${required} (行政村不少于5路)`);
    if (villages.length === 0) problems.push('no natural villages (自然村) recorded: add each with the cameras at its main intersections');
  } else if (siteKind === 'natural_village' && villages.length === 0) {
    // The site is one natural village: its own intersections count.
    required = PER_NATURAL_VILLAGE;
    const atIntersection = cameras.filter((c) => c.point === 'intersection').length;
    siteShort = Math.max(0, required - atIntersection);
    if (atIntersection < required) problems.push(`${atIntersection} camera(s) at main intersections, a natural village needs ${required}`);
  }
  const rule = coverageRule(siteKind);
  const villagesShort = vs.reduce((n, v) => n + Math.max(0, v.required - v.atIntersection), 0);
  return {
    rule,
    cameras: cameras.length,
    required,
    ok: problems.length === 0,
    missing: rule ? Math.max(siteShort, villagesShort) : null,
    villages: vs,
    problems,
  };
}
