/**
 * What each kind of device is and does, as pure functions: its state snapshot, how an event it
 * publishes changes that snapshot, how it judges a command (docs/mqtt-contract.md), and the
 * harmless events it sends under steady load.
 */
import type { SimDeviceSpec, SimEventBody } from './types.ts';
import { pick } from './util.ts';

export type SimState = Record<string, unknown>;

export const ARM_MODES = ['away', 'home', 'night'] as const;
export type ArmMode = (typeof ARM_MODES)[number];

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function topics(id: string) {
  const base = `sw/v1/${id}`;
  return { event: `${base}/event`, state: `${base}/state`, status: `${base}/status`, cmd: `${base}/cmd`, ack: `${base}/cmd/ack` };
}

/** The snapshot a device starts with. */
export function initialState(spec: SimDeviceSpec): SimState {
  switch (spec.kind) {
    case 'alarm_panel':
      return { armed: 'disarmed', zonesOpen: [] };
    case 'access_controller':
      return { door: 'closed', locked: true };
    case 'siren':
      return { sounding: false };
    case 'loudspeaker':
      return { playing: null };
    case 'sensor':
      return { state: spec.sensorType === 'contact' ? 'closed' : 'clear' };
    case 'sos_button':
      return { pressed: false };
  }
}

/**
 * Applies an event the device publishes to its snapshot; returns true when the snapshot changed
 * (the device then republishes it).
 */
export function reflectEvent(spec: SimDeviceSpec, state: SimState, ev: SimEventBody): boolean {
  const before = JSON.stringify(state);
  const s = typeof ev.state === 'string' ? ev.state : undefined;
  switch (spec.kind) {
    case 'alarm_panel':
      if (ev.type === 'armed' && typeof ev.mode === 'string') state.armed = ev.mode;
      else if (ev.type === 'disarmed') state.armed = 'disarmed';
      else if (ev.type === 'zone' && typeof ev.zone === 'number') {
        const open = new Set(Array.isArray(state.zonesOpen) ? (state.zonesOpen as number[]) : []);
        if (s === 'alarm') open.add(ev.zone);
        else if (s === 'restore') open.delete(ev.zone);
        state.zonesOpen = [...open].sort((a, b) => a - b);
      }
      break;
    case 'access_controller':
      if (ev.type === 'door') {
        if (s === 'opened' || s === 'forced' || s === 'held_open') state.door = 'open';
        else if (s === 'closed') {
          state.door = 'closed';
          state.locked = true;
        }
      }
      break;
    case 'sensor':
      if (ev.type === (spec.sensorType ?? 'smoke') && s !== undefined) state.state = s;
      break;
    case 'sos_button':
      if (ev.type === 'sos') state.pressed = (s ?? 'pressed') === 'pressed';
      break;
    default:
      break;
  }
  return JSON.stringify(state) !== before;
}

/** What a command does to the device, once judged acceptable. */
export type Effect =
  | { kind: 'arm'; mode: ArmMode }
  | { kind: 'disarm' }
  | { kind: 'unlock'; seconds: number }
  | { kind: 'siren'; on: boolean; seconds: number }
  | { kind: 'broadcast'; clip: string | null; seconds: number };

export type Verdict = { ok: true; effect: Effect } | { ok: false; detail: string };

function intIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/** Judges a command (action + params) for this kind of device. Unsupported or bad parameters → not ok. */
export function judgeCommand(spec: SimDeviceSpec, action: string | null, params: Record<string, unknown>): Verdict {
  const unsupported = { ok: false as const, detail: `action ${JSON.stringify(action)} is not supported by a ${spec.kind}` };
  switch (spec.kind) {
    case 'alarm_panel':
      if (action === 'arm') {
        const mode = params.mode ?? 'away';
        if (!ARM_MODES.includes(mode as ArmMode)) return { ok: false, detail: `bad mode ${JSON.stringify(mode)}` };
        return { ok: true, effect: { kind: 'arm', mode: mode as ArmMode } };
      }
      if (action === 'disarm') return { ok: true, effect: { kind: 'disarm' } };
      return unsupported;
    case 'access_controller': {
      if (action !== 'unlock') return unsupported;
      const seconds = params.seconds ?? 5;
      if (!intIn(seconds, 1, 60)) return { ok: false, detail: `bad seconds ${JSON.stringify(seconds)} (1-60)` };
      return { ok: true, effect: { kind: 'unlock', seconds } };
    }
    case 'siren': {
      if (action !== 'siren') return unsupported;
      const max = spec.maxDurationSeconds ?? 180;
      if (typeof params.on !== 'boolean') return { ok: false, detail: 'params.on must be true or false' };
      const seconds = params.seconds ?? max;
      if (!intIn(seconds, 1, max)) return { ok: false, detail: `bad seconds ${JSON.stringify(seconds)} (1-${max})` };
      return { ok: true, effect: { kind: 'siren', on: params.on, seconds } };
    }
    case 'loudspeaker': {
      if (action !== 'broadcast') return unsupported;
      const seconds = params.seconds ?? 30;
      if (!intIn(seconds, 1, 3600)) return { ok: false, detail: `bad seconds ${JSON.stringify(seconds)} (1-3600)` };
      if (params.stop === true) return { ok: true, effect: { kind: 'broadcast', clip: null, seconds } };
      const clip = params.clip;
      if (typeof clip !== 'string' || clip === '') return { ok: false, detail: 'params.clip (or stop: true) is required' };
      if (spec.clips && !spec.clips.some((c) => c.id === clip)) return { ok: false, detail: `unknown clip ${JSON.stringify(clip)}` };
      return { ok: true, effect: { kind: 'broadcast', clip, seconds } };
    }
    default:
      return unsupported;
  }
}

/** Epoch ms of a contract time (number or RFC 3339 string); null when absent, NaN when unreadable. */
export function parseTime(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

/**
 * A valid, non-alarming event for steady load: access granted at doors, restores and clears elsewhere,
 * heartbeats from sirens and loudspeakers (which have no events of their own).
 */
export function loadEvent(spec: SimDeviceSpec, random: () => number): SimEventBody {
  switch (spec.kind) {
    case 'access_controller':
      return { type: 'access', result: 'granted', method: random() < 0.5 ? 'card' : 'face', credential: credential(random) };
    case 'alarm_panel': {
      const zone = spec.zones && spec.zones.length > 0 ? pick(spec.zones, random) : { number: 1, type: 'intrusion' as const };
      return { type: 'zone', zone: zone.number, zoneType: zone.type, state: 'restore' };
    }
    case 'sensor': {
      const t = spec.sensorType ?? 'smoke';
      const clear = t === 'contact' ? 'closed' : 'clear';
      return { type: t, state: clear };
    }
    case 'sos_button':
      return { type: 'sos', state: 'cleared' };
    default:
      return { type: 'heartbeat' };
  }
}

/** A card number as access controllers report them (8 hex digits). */
export function credential(random: () => number): string {
  return Math.floor(random() * 0xffffffff)
    .toString(16)
    .toUpperCase()
    .padStart(8, '0');
}
