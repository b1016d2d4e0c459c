import { createHash } from 'node:crypto';
import type { SiteConfig } from '../../config/schema.ts';
import { Secret } from '../../config/schema/secret.ts';

/** One changed value, by path (devices and grids are matched by id/code, not position). */
export interface Change {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface ConfigDiff {
  /** Top-level areas with at least one change. */
  areas: string[];
  changes: Change[];
  devices: { added: string[]; removed: string[]; changed: string[] };
  /** True when more changes exist than are listed. */
  truncated: boolean;
}

const MAX = 300;

/** A value to compare and show: secrets become a fingerprint that never reveals them. */
function canon(v: unknown): unknown {
  if (v instanceof Secret) {
    const material = v.hash ? v.hash.hash.toString('base64') : v.reveal();
    return `[secret ${v.source} #${createHash('sha256').update(material).digest('hex').slice(0, 8)}]`;
  }
  if (Buffer.isBuffer(v)) return `[${v.length} bytes]`;
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]));
  return v;
}

const keyOf = (x: unknown): string | null => {
  if (!x || typeof x !== 'object') return null;
  const o = x as Record<string, unknown>;
  return typeof o.id === 'string' ? o.id : typeof o.code === 'string' ? o.code : typeof o.number === 'number' ? String(o.number) : null;
};

function walk(a: unknown, b: unknown, path: string, out: Change[]): void {
  if (out.length > MAX) return;
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (Array.isArray(a) && Array.isArray(b) && [...a, ...b].every((x) => keyOf(x) !== null)) {
    const am = new Map(a.map((x) => [keyOf(x)!, x]));
    const bm = new Map(b.map((x) => [keyOf(x)!, x]));
    for (const [k, x] of am) if (!bm.has(k)) out.push({ path: `${path}[${k}]`, kind: 'removed', before: x });
    for (const [k, x] of bm) {
      if (!am.has(k)) out.push({ path: `${path}[${k}]`, kind: 'added', after: x });
      else walk(am.get(k), x, `${path}[${k}]`, out);
    }
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in bo) || bo[k] === undefined) {
        if (ao[k] !== undefined) out.push({ path: p, kind: 'removed', before: ao[k] });
      } else if (!(k in ao) || ao[k] === undefined) out.push({ path: p, kind: 'added', after: bo[k] });
      else walk(ao[k], bo[k], p, out);
    }
    return;
  }
  out.push({ path, kind: 'changed', before: a, after: b });
}

/** What changes between the config in force and a candidate (a dry run shows this before anything is applied). */
export function diffConfigs(prev: SiteConfig, next: SiteConfig): ConfigDiff {
  const changes: Change[] = [];
  walk(canon(prev), canon(next), '', changes);
  const truncated = changes.length > MAX;
  const areas = [...new Set(changes.map((c) => c.path.split(/[.[]/)[0]!))];
  const prevIds = new Set(prev.devices.map((d) => d.id));
  const nextIds = new Set(next.devices.map((d) => d.id));
  const changedIds = new Set(
    changes.flatMap((c) => {
      const m = /^devices\[([^\]]+)\]\./.exec(c.path);
      return m ? [m[1]!] : [];
    }),
  );
  return {
    areas,
    changes: changes.slice(0, MAX),
    devices: {
      added: [...nextIds].filter((id) => !prevIds.has(id)),
      removed: [...prevIds].filter((id) => !nextIds.has(id)),
      changed: [...changedIds].filter((id) => prevIds.has(id) && nextIds.has(id)),
    },
    truncated,
  };
}
