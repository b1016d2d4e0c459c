/**
 * Cross-checks of the detection rules against the rest of a site file: the
 * devices, grids and schedules a rule names must exist and be of the right
 * kind, linkage must fit the device (siren duration, loudspeaker clip, PTZ).
 * Runs over the raw object, defensively, like crosscheck.ts.
 */
import { didYouMean } from './problems.ts';
import { quote } from './schema/common.ts';
import { DEFAULT_RULES, DEFAULT_SCHEDULES } from './schema/rules.ts';
import type { CrossProblem, PathSegment } from './crosscheck.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

interface DeviceInfo {
  index: number;
  raw: Obj;
  kind: string | undefined;
}

function article(kind: string): string {
  return /^[aeiou]/.test(kind) ? 'an' : 'a';
}

export function crossCheckRules(raw: Obj): CrossProblem[] {
  const out: CrossProblem[] = [];
  const rules = isObj(raw.rules) ? raw.rules : {};
  const devices = new Map<string, DeviceInfo>();
  arr(raw.devices).forEach((d, index) => {
    if (!isObj(d)) return;
    const id = str(d.id);
    if (id !== undefined && !devices.has(id)) devices.set(id, { index, raw: d, kind: str(d.kind) });
  });
  const gridCodes = new Set(arr(raw.grids).map((g) => (isObj(g) ? str(g.code) : undefined)));
  const gridsKnown = Array.isArray(raw.grids);

  // --- schedules ------------------------------------------------------------
  const schedules = new Set<string>();
  const scheduleList = rules.schedules === undefined ? DEFAULT_SCHEDULES : arr(rules.schedules);
  scheduleList.forEach((s, i) => {
    if (!isObj(s)) return;
    const id = str(s.id);
    if (id !== undefined) {
      if (schedules.has(id)) out.push({ path: ['rules', 'schedules', i, 'id'], message: `duplicate schedule id ${quote(id)}` });
      schedules.add(id);
    }
    if (typeof s.from === 'string' && s.from === s.to) {
      out.push({
        path: ['rules', 'schedules', i, 'to'],
        message: `from and to are both ${quote(s.from)}: the window is empty`,
        hint: 'for all day, leave armedBy empty',
      });
    }
  });

  const deviceRef = (ref: unknown, path: PathSegment[], want?: readonly string[], role?: string): DeviceInfo | undefined => {
    if (typeof ref !== 'string') return undefined;
    const d = devices.get(ref);
    if (!d) {
      const guess = didYouMean(ref, [...devices.keys()]);
      out.push({
        path,
        message: `no device with id ${quote(ref)}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`,
        ...(want
          ? {
              hint: `${role ?? want.join(' or ')} ids: ${
                [...devices]
                  .filter(([, v]) => v.kind && want.includes(v.kind))
                  .map(([k]) => k)
                  .slice(0, 12)
                  .join(', ') || 'none configured'
              }`,
            }
          : {}),
      });
      return undefined;
    }
    if (want && d.kind !== undefined && !want.includes(d.kind)) {
      out.push({ path, message: `${quote(ref)} is ${article(d.kind)} ${d.kind}, not ${role ?? want.join(' or ')}` });
      return undefined;
    }
    return d;
  };

  const checkFilter = (f: unknown, path: PathSegment[]) => {
    if (!isObj(f)) return;
    arr(f.devices).forEach((ref, j) => deviceRef(ref, [...path, 'devices', j]));
    arr(f.grids).forEach((g, j) => {
      if (typeof g === 'string' && gridsKnown && !gridCodes.has(g)) {
        out.push({ path: [...path, 'grids', j], message: `unknown grid ${quote(g)}`, hint: `grids are: ${[...gridCodes].filter(Boolean).join(', ')}` });
      }
    });
  };

  /** `label` set: a built-in rule, whose problems are reported at `path` itself (the site file does not hold the rule). */
  const checkArming = (list: unknown, anchor: unknown, path: PathSegment[], label: string) => {
    arr(list).forEach((a, j) => {
      if (!isObj(a)) return;
      const at = (...rest: PathSegment[]) => (label ? path : [...path, j, ...rest]);
      const sched = str(a.schedule);
      if (sched !== undefined && !schedules.has(sched)) {
        const guess = didYouMean(sched, [...schedules]);
        out.push({
          path: at('schedule'),
          message: `${label}no schedule with id ${quote(sched)}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`,
          hint: schedules.size ? `schedules are: ${[...schedules].join(', ')}` : 'define it under rules.schedules',
        });
      }
      const panel = str(a.panel);
      if (panel === 'self') {
        const kinds = isObj(anchor) ? arr(anchor.kinds) : [];
        if (kinds.length > 0 && !kinds.every((k) => k === 'zone_alarm')) {
          out.push({
            path: at('panel'),
            message: `${label}panel "self" means the panel the event comes from, but the rule also matches ${kinds.filter((k) => k !== 'zone_alarm').join(', ')}`,
            hint: 'use self only on zone_alarm rules, or name the panel by its id',
          });
        }
      } else if (panel !== undefined) {
        const d = deviceRef(panel, at('panel'), ['alarm_panel', 'mqtt_mapped'], 'an alarm_panel (or a mapped panel)');
        if (d && d.kind === 'mqtt_mapped' && d.raw.profile !== 'ha_alarm_panel') {
          out.push({ path: at('panel'), message: `${quote(panel)} is a mapped ${String(d.raw.profile)} device, not a panel that reports arming` });
        }
      }
    });
  };

  const checkLinkage = (l: unknown, path: PathSegment[]) => {
    if (!isObj(l)) return;
    arr(l.cameras).forEach((ref, j) => deviceRef(ref, [...path, 'cameras', j], ['onvif_camera'], 'an onvif_camera'));
    if (isObj(l.ptz)) {
      const d = deviceRef(l.ptz.camera, [...path, 'ptz', 'camera'], ['onvif_camera'], 'an onvif_camera');
      if (d && d.raw.ptz !== true)
        out.push({
          path: [...path, 'ptz', 'camera'],
          message: `camera ${quote(l.ptz.camera)} is not marked ptz: true`,
          hint: 'set ptz: true on the camera if it can pan/tilt/zoom',
        });
    }
    if (isObj(l.siren)) {
      const d = deviceRef(l.siren.device, [...path, 'siren', 'device'], ['siren'], 'a siren');
      const max = d && typeof d.raw.maxDurationSeconds === 'number' ? d.raw.maxDurationSeconds : 180;
      if (d && typeof l.siren.seconds === 'number' && l.siren.seconds > max) {
        out.push({
          path: [...path, 'siren', 'seconds'],
          message: `${l.siren.seconds} s is longer than siren ${quote(l.siren.device)} allows (maxDurationSeconds ${max})`,
        });
      }
    }
    if (isObj(l.broadcast)) {
      const d = deviceRef(l.broadcast.device, [...path, 'broadcast', 'device'], ['loudspeaker'], 'a loudspeaker');
      const clip = str(l.broadcast.clip);
      if (d && clip !== undefined) {
        const clips = arr(d.raw.clips)
          .map((c) => (isObj(c) ? str(c.id) : undefined))
          .filter((c): c is string => c !== undefined);
        if (!clips.includes(clip)) {
          const guess = didYouMean(clip, clips);
          out.push({
            path: [...path, 'broadcast', 'clip'],
            message: `loudspeaker ${quote(l.broadcast.device)} has no clip ${quote(clip)}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`,
            hint: clips.length ? `its clips are: ${clips.join(', ')}` : "add it under the loudspeaker's clips",
          });
        }
      }
    }
  };

  const checkRule = (r: unknown, path: PathSegment[], label = '') => {
    if (!isObj(r)) return;
    const anchor = r.type === 'pair' ? r.first : r.when;
    if (label === '') {
      checkFilter(r.when, [...path, 'when']);
      checkFilter(r.first, [...path, 'first']);
      checkFilter(r.second, [...path, 'second']);
      checkLinkage(r.linkage, [...path, 'linkage']);
      if (r.threshold !== undefined && r.holdSeconds !== undefined) {
        out.push({ path: [...path, 'holdSeconds'], message: 'a rule takes a threshold or a holdSeconds, not both', hint: 'split it into two rules' });
      }
    }
    checkArming(r.armedBy, anchor, label === '' ? [...path, 'armedBy'] : path, label);
  };

  // --- the site's own rules ------------------------------------------------
  const ids = new Map<string, number>();
  arr(rules.list).forEach((r, i) => {
    if (!isObj(r)) return;
    const id = str(r.id);
    if (id !== undefined) {
      const first = ids.get(id);
      if (first !== undefined) out.push({ path: ['rules', 'list', i, 'id'], message: `duplicate rule id ${quote(id)} (also rules.list[${first}])` });
      else ids.set(id, i);
    }
    checkRule(r, ['rules', 'list', i]);
  });

  // --- built-in rules still in force ---------------------------------------
  const builtinIds = DEFAULT_RULES.map((r) => r.id);
  arr(rules.disabled).forEach((id, i) => {
    if (typeof id === 'string' && !builtinIds.includes(id)) {
      const guess = didYouMean(id, builtinIds);
      out.push({
        path: ['rules', 'disabled', i],
        message: `no built-in rule ${quote(id)}${guess ? ` (did you mean ${quote(guess)}?)` : ''}`,
        hint: `built-in rules: ${builtinIds.join(', ')}`,
      });
    }
  });
  if (rules.defaults !== false) {
    const off = new Set(arr(rules.disabled));
    for (const r of DEFAULT_RULES) {
      if (off.has(r.id) || ids.has(r.id)) continue;
      checkRule(r, ['rules', 'schedules'], `built-in rule ${quote(r.id)}: `);
    }
  }
  return out;
}
