/**
 * The rules benchmark's estate, rules and event mix: a large 小区 (150
 * cameras, 24 doors, 4 panels, 30 smoke sensors, 40 SOS buttons), the
 * built-in rules plus the site's own up to 200, and a recorded-like stream
 * (camera motion flapping, access records, door contacts, perimeter events,
 * devices dropping out) over an evening that crosses the 22:00 night schedule.
 */
import { parseConfig } from '../config/load.ts';
import type { SiteConfig } from '../config/schema.ts';
import { effectiveRules } from '../config/schema/rules.ts';
import { laneOf, type EventKind, type StoredEvent } from '../gateway/core/events.ts';

const GRIDS = Array.from({ length: 6 }, (_, i) => `320602001001-0${i + 1}`);
const BUILDINGS = Array.from({ length: 20 }, (_, i) => `${i + 1}栋`);

interface Cam {
  id: string;
  grid: string;
  point: 'gate' | 'perimeter' | 'entrance' | 'intersection' | 'public_area';
  building?: string;
}

function cameras(): Cam[] {
  const out: Cam[] = [];
  const add = (n: number, point: Cam['point'], building?: (i: number) => string | undefined) => {
    for (let i = 0; i < n; i++) {
      const b = building?.(i);
      out.push({ id: `cam-${point}-${i}`, grid: GRIDS[out.length % GRIDS.length]!, point, ...(b ? { building: b } : {}) });
    }
  };
  add(8, 'gate');
  add(24, 'perimeter');
  add(40, 'entrance', (i) => BUILDINGS[i % BUILDINGS.length]);
  add(18, 'intersection');
  add(60, 'public_area');
  return out;
}

export function benchSite(totalRules: number): SiteConfig {
  const cams = cameras();
  const devices: Record<string, unknown>[] = cams.map((c, i) => ({
    id: c.id,
    kind: 'onvif_camera',
    name: `摄像机${i}`,
    grid: c.grid,
    place: { point: c.point, ...(c.building ? { building: c.building } : {}) },
    host: '127.0.0.1',
    port: 20000 + i,
    username: 'admin',
    password: 'admin-demo',
  }));
  const entrance = cams.filter((c) => c.point === 'entrance');
  const perimeter = cams.filter((c) => c.point === 'perimeter');
  for (let i = 0; i < 24; i++) {
    const cam = entrance[i % entrance.length]!;
    devices.push({
      id: `door-${i}`,
      kind: 'access_controller',
      name: `单元门${i}`,
      grid: cam.grid,
      place: { building: cam.building, unit: `${(i % 3) + 1}单元`, point: 'entrance' },
      password: `door-${i}-demo`,
      door: { name: `单元门${i}` },
      linkedCameras: [cam.id],
    });
  }
  for (let p = 0; p < 4; p++) {
    devices.push({
      id: `panel-${p}`,
      kind: 'alarm_panel',
      name: `报警主机${p}`,
      grid: GRIDS[p]!,
      place: { point: 'public_area' },
      password: `panel-${p}-demo`,
      zones: Array.from({ length: 8 }, (_, z) => ({
        number: z + 1,
        name: `防区${z + 1}`,
        type: z < 4 ? 'perimeter' : z < 6 ? 'intrusion' : z === 6 ? 'fire' : 'panic',
        linkedCameras: z < 4 ? [perimeter[(p * 4 + z) % perimeter.length]!.id] : [],
      })),
    });
  }
  for (let i = 0; i < 30; i++) {
    devices.push({
      id: `smoke-${i}`,
      kind: 'sensor',
      name: `烟感${i}`,
      grid: GRIDS[i % GRIDS.length]!,
      place: { building: BUILDINGS[i % BUILDINGS.length], point: 'public_area' },
      password: `smoke-${i}-demo`,
      sensorType: 'smoke',
    });
  }
  for (let i = 0; i < 40; i++) {
    devices.push({
      id: `sos-${i}`,
      kind: 'sos_button',
      name: `一键报警${i}`,
      grid: GRIDS[i % GRIDS.length]!,
      place: { building: BUILDINGS[i % BUILDINGS.length], point: 'entrance' },
      password: `sos-${i}-demo`,
      household: `${BUILDINGS[i % BUILDINGS.length]}${i}01`,
    });
  }

  // The site's own rules, of every type, until the total (with the built-ins) reaches `totalRules`.
  const builtins = 22;
  const list: Record<string, unknown>[] = [];
  const want = Math.max(0, totalRules - builtins);
  const schedules = [
    { id: 'night', name: '夜间', from: '22:00', to: '06:00' },
    { id: 'office', name: '办公时间', from: '08:30', to: '17:30', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
    { id: 'evening', name: '傍晚', from: '18:00', to: '22:00' },
  ];
  for (let i = 0; list.length < want; i++) {
    const cam = cams[i % cams.length]!;
    const door = `door-${i % 24}`;
    switch (i % 6) {
      case 0:
      case 1:
        list.push({
          type: 'event',
          id: `cam-motion-${i}`,
          name: `移动侦测${i}`,
          level: 3,
          category: 'public_order',
          when: { kinds: ['motion', 'intrusion'], devices: [cam.id] },
          armedBy: [{ schedule: schedules[i % 3]!.id }],
          threshold: { count: 3, withinSeconds: 60 },
          dedupe: 'device',
        });
        break;
      case 2:
        list.push({
          type: 'event',
          id: `card-probe-${i}`,
          name: `连续刷卡失败${i}`,
          level: 3,
          category: 'public_order',
          when: { kinds: ['access_denied'], devices: [door] },
          threshold: { count: 5, withinSeconds: 60 },
        });
        break;
      case 3:
        list.push({
          type: 'pair',
          id: `door-cam-${i}`,
          name: `开门联动确认${i}`,
          level: 2,
          category: 'public_order',
          first: { kinds: ['door_open'], devices: [door] },
          second: { kinds: ['line_crossing', 'intrusion'], deviceKinds: ['onvif_camera'] },
          relation: 'linked_camera',
          withinSeconds: 20,
          armedBy: [{ schedule: 'night' }],
        });
        break;
      case 4:
        list.push({
          type: 'group',
          id: `grid-motion-${i}`,
          name: `网格多点移动${i}`,
          level: 2,
          category: 'public_order',
          when: { kinds: ['line_crossing'], grids: [GRIDS[i % GRIDS.length]!], points: ['perimeter', 'gate'] },
          groupBy: 'grid',
          minDevices: 3,
          withinSeconds: 60,
          armedBy: [{ schedule: 'night' }],
        });
        break;
      default:
        list.push({
          type: 'event',
          id: `zone-${i}`,
          name: `防区报警${i}`,
          level: 2,
          category: 'public_order',
          when: { kinds: ['zone_alarm'], devices: [`panel-${i % 4}`], zoneTypes: ['perimeter', 'intrusion'] },
          armedBy: [{ panel: 'self' }, { schedule: 'night' }],
          dedupe: 'point',
        });
    }
  }
  const r = parseConfig({
    demo: true,
    site: { boxId: 'sw-320602-900', name: '基准小区', divisionCode: '320602001001', kind: 'urban_estate', timezone: 'Asia/Shanghai' },
    grids: GRIDS.map((code, i) => ({ code, name: `${i + 1}网格` })),
    devices,
    panel: { host: '127.0.0.1' },
    broker: { host: '127.0.0.1' },
    rules: { schedules, list },
  });
  if (!r.ok) throw new Error(`bench site invalid: ${r.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const n = effectiveRules(r.config.rules).length;
  if (n !== Math.max(totalRules, builtins)) throw new Error(`bench site has ${n} rules, wanted ${totalRules}`);
  return r.config;
}

/** A small deterministic PRNG (mulberry32), so every run sees the same stream. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` stored events from 21:30 local, ~30 events/s (a stormy evening): 45 %
 * camera motion (a fifth of the cameras flapping), 30 % access granted, 3 %
 * denied, 8 % door contacts, 5 % line crossing / intrusion, 3 % panel zones
 * and arming, 2 % devices going offline and back, the rest smoke, SOS,
 * forced doors, tamper and trouble.
 */
export function eventMix(config: SiteConfig, n: number, start = Date.UTC(2026, 10, 21, 13, 30, 0)): StoredEvent[] {
  const rnd = prng(20261121);
  const byKind = (k: string) => config.devices.filter((d) => d.kind === k);
  const cams = byKind('onvif_camera');
  const flappers = cams.filter((_, i) => i % 5 === 0);
  const doors = byKind('access_controller');
  const panels = byKind('alarm_panel');
  const smokes = byKind('sensor');
  const sos = byKind('sos_button');
  const grid = new Map(config.devices.map((d) => [d.id, d.grid]));
  const state = new Map<string, boolean>();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const out: StoredEvent[] = [];
  let t = start;
  const push = (kind: EventKind, deviceId: string, active: boolean, attrs: Record<string, unknown> = {}, source?: string) => {
    const seq = out.length + 1;
    out.push({
      seq,
      id: `ev-${seq}`,
      kind,
      deviceId,
      active,
      ...(source !== undefined ? { source } : {}),
      deviceTime: t,
      receivedAt: t,
      clockOffsetMs: 0,
      clockTrusted: true,
      attrs,
      lane: laneOf(kind),
      grid: grid.get(deviceId) ?? null,
    } as StoredEvent);
  };
  const toggle = (key: string) => {
    const next = !(state.get(key) ?? false);
    state.set(key, next);
    return next;
  };
  while (out.length < n) {
    t += Math.floor(rnd() * 66); // ~30 events/s on average
    const r = rnd();
    if (r < 0.45) {
      const cam = rnd() < 0.7 ? pick(flappers) : pick(cams);
      push('motion', cam.id, toggle(`m:${cam.id}`), {});
    } else if (r < 0.75) {
      push('access_granted', pick(doors).id, true, { method: rnd() < 0.8 ? 'card' : 'face', credentialHash: `h${Math.floor(rnd() * 600)}` });
    } else if (r < 0.78) {
      push('access_denied', pick(doors).id, true, { method: 'card', reason: 'unknown card' });
    } else if (r < 0.86) {
      const d = pick(doors);
      push('door_open', d.id, toggle(`d:${d.id}`), {});
    } else if (r < 0.91) {
      push(rnd() < 0.6 ? 'line_crossing' : 'intrusion', pick(cams).id, true, {});
    } else if (r < 0.94) {
      const p = pick(panels);
      if (rnd() < 0.1) {
        if (toggle(`a:${p.id}`)) push('armed', p.id, true, { mode: 'away' });
        else push('disarmed', p.id, true, {});
      } else {
        const zone = 1 + Math.floor(rnd() * 6);
        push('zone_alarm', p.id, toggle(`z:${p.id}:${zone}`), { zone, zoneType: zone <= 4 ? 'perimeter' : 'intrusion' }, String(zone));
      }
    } else if (r < 0.96) {
      const d = rnd() < 0.7 ? pick(cams) : pick(doors);
      push('device_offline', d.id, toggle(`o:${d.id}`), {});
    } else if (r < 0.97) {
      const c = pick(cams);
      push('event_channel_lost', c.id, toggle(`e:${c.id}`), { reason: 'PullMessages failed' });
    } else if (r < 0.98) {
      const s = pick(smokes);
      push('smoke', s.id, toggle(`s:${s.id}`), {});
    } else if (r < 0.985) {
      push('sos', pick(sos).id, true, {});
    } else if (r < 0.99) {
      push('door_forced', pick(doors).id, true, {});
    } else if (r < 0.995) {
      const c = pick(cams);
      push('tamper', c.id, toggle(`t:${c.id}`), {});
    } else {
      const p = pick(panels);
      push('trouble', p.id, toggle(`tr:${p.id}`), { trouble: 'ac_loss' });
    }
  }
  return out;
}
