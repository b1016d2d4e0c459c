/**
 * Checks that relate one part of a config to another (grid exists, linked
 * cameras are cameras, ids unique, gbId prefix, budgets, demo rules, weak
 * secrets). They run over the raw object, defensively, so they are reported
 * even when other parts of the file fail to parse; they also work on a
 * parsed SiteConfig (secrets as `Secret`).
 */
import { isLoopback, quote, resolveContext, type ResolveContext } from './schema/common.ts';
import { resolveSecretRef } from './schema/secret.ts';
import { crossCheckRules } from './crosscheck-rules.ts';

export type PathSegment = string | number;

export interface CrossProblem {
  path: PathSegment[];
  message: string;
  hint?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown, def: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : def;
}

/** GB/T 28181 type codes (digits 11-13) plausible for each device kind; `null`: any 1xx. */
const GB_TYPES: Record<string, string[] | null> = {
  onvif_camera: ['131', '132'],
  alarm_panel: ['117'],
  sensor: ['134'],
  sos_button: ['134'],
  access_controller: ['124', '142'],
  siren: null,
  loudspeaker: null,
  mqtt_mapped: null,
};

export const DEMO_COUNTY_TOKEN = 'demo-county-token';

export function crossCheck(raw: unknown, ctx: ResolveContext = resolveContext()): CrossProblem[] {
  const out: CrossProblem[] = [];
  if (!isObj(raw)) return out;
  const demo = raw.demo === true;

  // --- site / grids -------------------------------------------------------
  const site = isObj(raw.site) ? raw.site : {};
  const division = str(site.divisionCode);
  const divisionOk = division !== undefined && /^\d{12}$/.test(division);

  const gridCodes = new Map<string, number>();
  arr(raw.grids).forEach((g, i) => {
    const code = isObj(g) ? str(g.code) : undefined;
    if (code === undefined) return;
    const first = gridCodes.get(code);
    if (first !== undefined) {
      out.push({ path: ['grids', i, 'code'], message: `duplicate grid code ${quote(code)} (also grids[${first}])` });
    } else gridCodes.set(code, i);
  });
  const gridsKnown = Array.isArray(raw.grids);

  // --- devices ------------------------------------------------------------
  const devices = arr(raw.devices);
  const byId = new Map<string, { index: number; kind: unknown }>();
  devices.forEach((d, i) => {
    if (!isObj(d)) return;
    const id = str(d.id);
    if (id === undefined) return;
    const first = byId.get(id);
    if (first !== undefined) {
      out.push({
        path: ['devices', i, 'id'],
        message: `duplicate device id ${quote(id)} (also devices[${first.index}])`,
        hint: 'device ids must be unique: they are MQTT user names and appear in topics',
      });
    } else byId.set(id, { index: i, kind: d.kind });
  });

  const cameraIds = [...byId].filter(([, v]) => v.kind === 'onvif_camera').map(([k]) => k);
  const checkLinked = (list: unknown, path: PathSegment[]) => {
    arr(list).forEach((ref, j) => {
      if (typeof ref !== 'string') return;
      const target = byId.get(ref);
      if (target === undefined) {
        out.push({
          path: [...path, j],
          message: `no device with id ${quote(ref)}`,
          hint: cameraIds.length
            ? `cameras are: ${cameraIds.slice(0, 12).join(', ')}${cameraIds.length > 12 ? ', ...' : ''}`
            : 'no onvif_camera devices are configured',
        });
      } else if (target.kind !== 'onvif_camera') {
        out.push({
          path: [...path, j],
          message: `${quote(ref)} is ${/^[aeiou]/.test(String(target.kind)) ? 'an' : 'a'} ${String(target.kind)}, not an onvif_camera`,
          hint: 'linkedCameras lists onvif_camera devices only',
        });
      }
    });
  };

  const bridges = new Map<string, { index: number; profile: unknown }>();
  arr(raw.mqttBridges).forEach((b, i) => {
    if (!isObj(b)) return;
    const id = str(b.id);
    if (id === undefined) return;
    if (bridges.has(id)) {
      out.push({ path: ['mqttBridges', i, 'id'], message: `duplicate bridge id ${quote(id)} (also mqttBridges[${bridges.get(id)?.index}])` });
    } else bridges.set(id, { index: i, profile: b.profile });
    const dev = byId.get(id);
    if (dev) {
      out.push({
        path: ['mqttBridges', i, 'id'],
        message: `bridge id ${quote(id)} is also a device id (devices[${dev.index}])`,
        hint: 'bridges and devices share the MQTT user name space; pick another id',
      });
    }
  });

  devices.forEach((d, i) => {
    if (!isObj(d)) return;
    const kind = d.kind;
    const grid = str(d.grid);
    if (grid !== undefined && gridsKnown && !gridCodes.has(grid)) {
      out.push({
        path: ['devices', i, 'grid'],
        message: `unknown grid ${quote(grid)}`,
        hint: gridCodes.size ? `grids are: ${[...gridCodes.keys()].join(', ')}` : 'add the grid under `grids` first',
      });
    }
    checkLinked(d.linkedCameras, ['devices', i, 'linkedCameras']);

    if (kind === 'alarm_panel') {
      const numbers = new Map<number, number>();
      arr(d.zones).forEach((z, j) => {
        if (!isObj(z)) return;
        if (typeof z.number === 'number') {
          const first = numbers.get(z.number);
          if (first !== undefined) {
            out.push({
              path: ['devices', i, 'zones', j, 'number'],
              message: `duplicate zone number ${z.number} (also zones[${first}])`,
            });
          } else numbers.set(z.number, j);
        }
        checkLinked(z.linkedCameras, ['devices', i, 'zones', j, 'linkedCameras']);
      });
    }

    if (kind === 'mqtt_mapped') {
      const bridge = str(d.bridge);
      if (bridge !== undefined) {
        const b = bridges.get(bridge);
        if (!b) {
          out.push({
            path: ['devices', i, 'bridge'],
            message: `no bridge with id ${quote(bridge)} in mqttBridges`,
            hint: bridges.size ? `bridges are: ${[...bridges.keys()].join(', ')}` : 'add the bridge under `mqttBridges` first',
          });
        } else if (typeof d.profile === 'string' && typeof b.profile === 'string' && d.profile !== b.profile) {
          out.push({
            path: ['devices', i, 'profile'],
            message: `profile ${quote(d.profile)} differs from its bridge ${quote(bridge)}'s profile ${quote(b.profile)}`,
          });
        }
      }
    }

    const gbId = str(d.gbId);
    if (gbId !== undefined && /^\d{20}$/.test(gbId)) {
      if (divisionOk && division !== undefined && gbId.slice(0, 6) !== division.slice(0, 6)) {
        out.push({
          path: ['devices', i, 'gbId'],
          message: `gbId ${quote(gbId)} starts with ${gbId.slice(0, 6)}, but site.divisionCode starts with ${division.slice(0, 6)}`,
          hint: 'the first 6 digits of a GB/T 28181 id are the county division code; check the id the county issued',
        });
      }
      const type = gbId.slice(10, 13);
      const allowed = typeof kind === 'string' ? GB_TYPES[kind] : undefined;
      if (allowed === null) {
        if (!type.startsWith('1')) {
          out.push({
            path: ['devices', i, 'gbId'],
            message: `gbId type code ${type} (digits 11-13) is not a front-end device type (1xx)`,
          });
        }
      } else if (allowed !== undefined && !allowed.includes(type)) {
        out.push({
          path: ['devices', i, 'gbId'],
          message: `gbId type code ${type} (digits 11-13) does not fit a ${String(kind)}; expected ${allowed.join(' or ')}`,
          hint: '131/132 camera, 117 alarm controller, 134 alarm input device, 124/142 access control',
        });
      }
    }
  });

  // --- storage / rules ----------------------------------------------------
  const storage = isObj(raw.storage) ? raw.storage : {};
  const budget = isObj(storage.budget) ? storage.budget : {};
  const maxDb = num(budget.maxDbMb, 1024);
  const hardCap = num(budget.hardCapMb, 1536);
  if (hardCap < maxDb) {
    out.push({
      path: ['storage', 'budget', 'hardCapMb'],
      message: `hardCapMb (${hardCap}) must be at least maxDbMb (${maxDb})`,
      hint: 'maxDbMb is where shedding starts, hardCapMb where even alarms are evicted',
    });
  }
  const rules = isObj(raw.rules) ? raw.rules : {};
  const deadlines = isObj(rules.deadlines) ? rules.deadlines : {};
  const defaults: Record<string, [number, number]> = { level1: [5, 60], level2: [15, 240], level3: [60, 1440] };
  for (const [lvl, [da, dc]] of Object.entries(defaults)) {
    const l = isObj(deadlines[lvl]) ? (deadlines[lvl] as Obj) : {};
    const a = num(l.acceptMinutes, da);
    const c = num(l.closeMinutes, dc);
    if (c < a) {
      out.push({
        path: ['rules', 'deadlines', lvl, 'closeMinutes'],
        message: `closeMinutes (${c}) is shorter than acceptMinutes (${a})`,
      });
    }
  }

  out.push(...crossCheckRules(raw));

  // --- county API ---------------------------------------------------------
  const countyApi = isObj(raw.countyApi) ? raw.countyApi : {};
  const tokens = arr(countyApi.tokens);
  if (countyApi.enabled === true && (countyApi.tokens === undefined || (Array.isArray(countyApi.tokens) && tokens.length === 0))) {
    out.push({
      path: ['countyApi', 'tokens'],
      message: 'the county API is enabled but has no tokens',
      hint: 'add { name: county, token: { env: COUNTY_API_TOKEN } }',
    });
  }
  const tokenNames = new Map<string, number>();
  tokens.forEach((t, i) => {
    const name = isObj(t) ? str(t.name) : undefined;
    if (name === undefined) return;
    if (tokenNames.has(name)) out.push({ path: ['countyApi', 'tokens', i, 'name'], message: `duplicate token name ${quote(name)}` });
    else tokenNames.set(name, i);
  });

  // --- demo rules ---------------------------------------------------------
  if (demo) {
    for (const part of ['panel', 'broker'] as const) {
      const section = isObj(raw[part]) ? (raw[part] as Obj) : {};
      const host = section.host === undefined ? '0.0.0.0' : section.host;
      if (typeof host === 'string' && !isLoopback(host)) {
        out.push({
          path: [part, 'host'],
          message: `a demo config binds loopback only (got ${quote(host)})`,
          hint: 'use 127.0.0.1, or set demo: false and give real secrets',
        });
      }
    }
  }

  // --- secrets ------------------------------------------------------------
  const secrets: { path: PathSegment[]; ref: unknown; owner?: string; mqtt: boolean }[] = [];
  devices.forEach((d, i) => {
    if (isObj(d) && d.password !== undefined) {
      secrets.push({ path: ['devices', i, 'password'], ref: d.password, owner: str(d.id), mqtt: d.kind !== 'onvif_camera' });
    }
  });
  arr(raw.mqttBridges).forEach((b, i) => {
    if (isObj(b) && b.password !== undefined) secrets.push({ path: ['mqttBridges', i, 'password'], ref: b.password, owner: str(b.id), mqtt: true });
  });
  const upstream = isObj(raw.upstream) ? raw.upstream : {};
  const county = isObj(upstream.county) ? upstream.county : {};
  const auth = isObj(county.auth) ? county.auth : {};
  if (auth.token !== undefined) secrets.push({ path: ['upstream', 'county', 'auth', 'token'], ref: auth.token, mqtt: false });
  if (auth.secret !== undefined) secrets.push({ path: ['upstream', 'county', 'auth', 'secret'], ref: auth.secret, mqtt: false });
  tokens.forEach((t, i) => {
    if (isObj(t) && t.token !== undefined) secrets.push({ path: ['countyApi', 'tokens', i, 'token'], ref: t.token, mqtt: false });
  });

  if (!demo) {
    for (const s of secrets) {
      if (isObj(s.ref) && 'scrypt' in s.ref) continue; // a hash: nothing to check here
      const r = resolveSecretRef(s.ref, ctx);
      if (!r.ok || r.secret.hash) continue; // reported by the schema pass, or a hash: nothing to check
      const v = r.secret.reveal();
      const isDemo = v === DEMO_COUNTY_TOKEN || v === 'admin-demo' || (s.owner !== undefined && v === `${s.owner}-demo`);
      if (isDemo) {
        out.push({
          path: s.path,
          message: 'this is a demo secret, refused outside demo mode',
          hint: 'demo secrets are public: give each device and token its own, e.g. { env: NAME } or { file: path }',
        });
      } else if (v.length < 8) {
        out.push({
          path: s.path,
          message: `secret too short (${v.length} characters, at least 8)`,
          hint: 'use a long random secret, e.g. `openssl rand -base64 18`',
        });
      }
    }
  }
  return out;
}
