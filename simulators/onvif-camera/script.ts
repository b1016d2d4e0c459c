import fs from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { CameraFarm } from './farm.ts';
import { SIM_EVENT_TYPES, type SimEvent } from './types.ts';

/**
 * A scripted timeline for the cameras (YAML or JSON, an array of steps):
 *
 *   - { at: 5s, camera: cam-gate-north-in, event: { type: motion, active: true } }
 *   - { at: 8s, camera: cam-perim-n-east, event: { type: line, rule: 北墙 } }
 *   - { at: 10s, camera: cam-gate-north-in, fault: { clockSkewSeconds: 3600 } }
 *   - { at: 20s, camera: cam-gate-north-in, action: drop-subscriptions, mode: silent }
 *   - { at: 30s, camera: cam-gate-north-in, action: unreachable }   # reachable brings it back
 */
export interface ScriptStep {
  atMs: number;
  camera: string;
  event?: SimEvent;
  fault?: { clockSkewSeconds?: number; maxSubscriptions?: number; slowMs?: number; eventsDown?: boolean; lockoutAfter?: number | null };
  action?: 'drop-subscriptions' | 'unreachable' | 'reachable';
  mode?: 'silent' | 'fault';
}

export class ScriptError extends Error {}

export function parseAt(v: unknown, where: string): number {
  if (typeof v === 'number' && v >= 0) return v * 1000;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim()) : null;
  if (!m) throw new ScriptError(`${where}: "at" must be like 500ms, 5s or 2m`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

export function parseScript(doc: unknown, cameraIds: ReadonlySet<string>): ScriptStep[] {
  const steps = Array.isArray(doc) ? doc : (doc as { steps?: unknown })?.steps;
  if (!Array.isArray(steps)) throw new ScriptError('a camera script is an array of steps (or { steps: [...] })');
  return steps
    .map((raw, i): ScriptStep => {
      const where = `step ${i + 1}`;
      const s = raw as Record<string, unknown>;
      if (!s || typeof s !== 'object') throw new ScriptError(`${where}: expected an object`);
      const camera = String(s.camera ?? '');
      if (!cameraIds.has(camera)) throw new ScriptError(`${where}: no simulated camera ${JSON.stringify(camera)}`);
      const step: ScriptStep = { atMs: parseAt(s.at, where), camera };
      if (s.event !== undefined) {
        const e = s.event as Record<string, unknown>;
        if (e.type !== 'raw' && !SIM_EVENT_TYPES.includes(e.type as never))
          throw new ScriptError(`${where}: event.type must be one of ${SIM_EVENT_TYPES.join(', ')}, raw`);
        step.event = e as unknown as SimEvent;
      }
      if (s.fault !== undefined) step.fault = s.fault as ScriptStep['fault'];
      if (s.action !== undefined) {
        if (!['drop-subscriptions', 'unreachable', 'reachable'].includes(String(s.action)))
          throw new ScriptError(`${where}: action must be drop-subscriptions, unreachable or reachable`);
        step.action = s.action as ScriptStep['action'];
        step.mode = s.mode === 'fault' ? 'fault' : 'silent';
      }
      if (!step.event && !step.fault && !step.action) throw new ScriptError(`${where}: needs an event, a fault or an action`);
      return step;
    })
    .sort((a, b) => a.atMs - b.atMs);
}

export async function loadScript(file: string, cameraIds: ReadonlySet<string>): Promise<ScriptStep[]> {
  const text = await fs.readFile(file, 'utf8');
  try {
    return parseScript(parseYaml(text), cameraIds);
  } catch (err) {
    throw new ScriptError(`${file}: ${(err as Error).message}`);
  }
}

/** Play the steps on the farm's clock; resolves after the last one. */
export function runScript(farm: CameraFarm, steps: readonly ScriptStep[], log: (line: string) => void): { done: Promise<void>; stop(): void } {
  const timers = steps.map(() => ({ cancel() {} }));
  let left = steps.length;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  if (!left) finish();
  steps.forEach((s, i) => {
    timers[i] = farm.clock.setTimer(s.atMs, () => {
      void apply(farm, s, log).finally(() => {
        if (--left === 0) finish();
      });
    });
  });
  return {
    done,
    stop() {
      for (const t of timers) t.cancel();
      finish();
    },
  };
}

async function apply(farm: CameraFarm, s: ScriptStep, log: (line: string) => void): Promise<void> {
  const cam = farm.camera(s.camera);
  if (s.event) {
    cam.emit(s.event);
    log(`${s.camera}: ${s.event.type === 'raw' ? s.event.topic : s.event.type}${'active' in s.event && s.event.active === false ? ' (cleared)' : ''}`);
  }
  if (s.fault) {
    const f = s.fault;
    if (f.clockSkewSeconds !== undefined) cam.faults.clockSkewMs = f.clockSkewSeconds * 1000;
    if (f.maxSubscriptions !== undefined) cam.faults.maxSubscriptions = f.maxSubscriptions;
    if (f.slowMs !== undefined) cam.faults.slowMs = f.slowMs;
    if (f.eventsDown !== undefined) cam.faults.eventsDown = f.eventsDown;
    if (f.lockoutAfter !== undefined) cam.auth.lockout = { ...cam.auth.lockout, after: f.lockoutAfter };
    log(`${s.camera}: fault ${JSON.stringify(f)}`);
  }
  if (s.action === 'drop-subscriptions') log(`${s.camera}: dropped ${cam.dropSubscriptions(s.mode ?? 'silent')} subscriptions (${s.mode})`);
  if (s.action === 'unreachable' || s.action === 'reachable') {
    await farm.setReachable(s.camera, s.action === 'reachable');
    log(`${s.camera}: ${s.action}`);
  }
}
