/**
 * Scenarios: a timeline (YAML or JSON) of things devices do at given times after the start.
 *
 * ```yaml
 * - { at: 5s, device: door-b3, event: { type: door, state: forced } }
 * - { at: 7s, device: panel-north, event: { type: zone, zone: 4, zoneType: intrusion, state: alarm } }
 * - { at: 9s, device: sos-01, action: disconnect }
 * - { at: 12s, device: sos-01, action: reconnect }
 * - { at: 15s, device: door-b1, action: flood, count: 500, payload: mixed }
 * - { at: 16s, device: door-b2, action: badPayload, kind: not-json }
 * ```
 * The file may also be `{ name, steps: [...] }`. A bare `at` number is seconds.
 */
import fs from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { SimDevice } from './device.ts';
import { BAD_PAYLOAD_KINDS, flood, sendBadPayload, MAX_FLOOD_COUNT } from './faults.ts';
import type { SimEventBody } from './types.ts';
import { errorMessage, formatMs, parseDuration, Timers, withTimeout } from './util.ts';

export const SCENARIO_ACTIONS = ['event', 'disconnect', 'reconnect', 'silent', 'resume', 'flood', 'badPayload'] as const;
export type ScenarioAction = (typeof SCENARIO_ACTIONS)[number];

const MAX_STEPS = 10_000;
const MAX_AT_MS = 24 * 3_600_000;
/** A step that has not finished (e.g. an event waiting for a PUBACK) after this is recorded as failed. */
const STEP_TIMEOUT_MS = 30_000;

const StepSchema = z
  .strictObject({
    at: z.union([z.string(), z.number()]),
    device: z.string().min(1),
    action: z.enum(SCENARIO_ACTIONS).optional(),
    event: z.looseObject({ type: z.string().min(1) }).optional(),
    /** silent: on (default true) or off */
    on: z.boolean().optional(),
    /** flood: how many messages */
    count: z.number().int().min(1).max(MAX_FLOOD_COUNT).optional(),
    /** flood: valid (default), bad, or mixed (1 in 10 bad) */
    payload: z.enum(['valid', 'bad', 'mixed']).optional(),
    /** badPayload: which kind (default not-json) */
    kind: z.enum(BAD_PAYLOAD_KINDS).optional(),
    note: z.string().optional(),
  })
  .superRefine((s, ctx) => {
    const action = s.action ?? (s.event ? 'event' : undefined);
    if (!action) ctx.addIssue({ code: 'custom', message: 'a step needs `event` or `action`' });
    if (action === 'event' && !s.event) ctx.addIssue({ code: 'custom', message: 'action event needs an `event` object with a `type`' });
    try {
      const ms = parseDuration(s.at, 'at');
      if (ms > MAX_AT_MS) ctx.addIssue({ code: 'custom', path: ['at'], message: 'at most 24h' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['at'], message: errorMessage(err) });
    }
  });

const ScenarioSchema = z.union([
  z.array(StepSchema).max(MAX_STEPS),
  z.strictObject({ name: z.string().optional(), steps: z.array(StepSchema).max(MAX_STEPS) }),
]);

export interface ScenarioStep {
  atMs: number;
  device: string;
  action: ScenarioAction;
  event?: SimEventBody;
  on?: boolean;
  count?: number;
  payload?: 'valid' | 'bad' | 'mixed';
  kind?: (typeof BAD_PAYLOAD_KINDS)[number];
  note?: string;
}

export interface Scenario {
  name: string;
  steps: ScenarioStep[];
}

/** Validates a parsed timeline (array or `{ name, steps }`); throws with every problem listed. */
export function parseScenario(raw: unknown, name = 'scenario'): Scenario {
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`${name}: not a valid scenario\n${lines.join('\n')}`);
  }
  const data = r.data;
  const steps = Array.isArray(data) ? data : data.steps;
  return {
    name: Array.isArray(data) ? name : (data.name ?? name),
    steps: steps
      .map((s): ScenarioStep => {
        const step: ScenarioStep = { atMs: parseDuration(s.at), device: s.device, action: s.action ?? 'event' };
        if (s.event) step.event = s.event as SimEventBody;
        if (s.on !== undefined) step.on = s.on;
        if (s.count !== undefined) step.count = s.count;
        if (s.payload !== undefined) step.payload = s.payload;
        if (s.kind !== undefined) step.kind = s.kind;
        if (s.note !== undefined) step.note = s.note;
        return step;
      })
      .sort((a, b) => a.atMs - b.atMs),
  };
}

/** Reads a scenario file (YAML or JSON). */
export async function loadScenarioFile(file: string): Promise<Scenario> {
  const text = await fs.readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Error(`${file}: ${errorMessage(err)}`, { cause: err });
  }
  return parseScenario(raw, file);
}

export interface StepOutcome {
  index: number;
  atMs: number;
  device: string;
  action: ScenarioAction;
  /** When the step actually fired, ms after the scenario started. */
  firedAtMs: number;
  ok: boolean;
  /** The event id for `event` steps. */
  eventId?: string;
  error?: string;
}

export interface ScenarioReport {
  name: string;
  steps: StepOutcome[];
  ms: number;
}

/** What a scenario needs from an estate. */
export interface ScenarioTarget {
  device(id: string): SimDevice;
  readonly devices: readonly SimDevice[];
}

export interface RunScenarioOptions {
  log?: (line: string) => void;
  /** Stops the remaining steps. */
  signal?: AbortSignal;
  random?: () => number;
}

/**
 * Fires each step at its time after the start. Resolves once every step has finished (or failed),
 * with when each fired. Unknown devices are refused before anything runs.
 */
export async function runScenario(estate: ScenarioTarget, source: string | Scenario | unknown, opts: RunScenarioOptions = {}): Promise<ScenarioReport> {
  const scenario = typeof source === 'string' ? await loadScenarioFile(source) : isScenario(source) ? source : parseScenario(source);
  const log = opts.log ?? (() => undefined);
  const known = new Set(estate.devices.map((d) => d.id));
  const unknown = [...new Set(scenario.steps.map((s) => s.device).filter((id) => !known.has(id)))];
  if (unknown.length) throw new Error(`${scenario.name}: unknown device${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);

  const timers = new Timers();
  const unfired = new Map<number, () => void>();
  const onAbort = () => {
    timers.close();
    for (const abortStep of [...unfired.values()]) abortStep();
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  log(`scenario ${scenario.name}: ${scenario.steps.length} steps over ${formatMs(scenario.steps.at(-1)?.atMs ?? 0)}`);

  const outcomes = await Promise.all(
    scenario.steps.map(
      (step, index) =>
        new Promise<StepOutcome>((resolve) => {
          const base = { index, atMs: step.atMs, device: step.device, action: step.action };
          const abortStep = () => {
            unfired.delete(index);
            resolve({ ...base, firedAtMs: -1, ok: false, error: 'aborted' });
          };
          unfired.set(index, abortStep);
          const t = timers.after(step.atMs - (performance.now() - started), () => {
            unfired.delete(index);
            const firedAtMs = performance.now() - started;
            log(`scenario ${scenario.name}: ${formatMs(step.atMs)} ${step.device} ${describe(step)}${step.note ? ` (${step.note})` : ''}`);
            withTimeout(runStep(estate, step, index, opts.random), STEP_TIMEOUT_MS, `step did not finish within ${formatMs(STEP_TIMEOUT_MS)}`).then(
              (eventId) => resolve({ ...base, firedAtMs, ok: true, ...(eventId ? { eventId } : {}) }),
              (err: unknown) => {
                log(`scenario ${scenario.name}: step ${index + 1} (${step.device} ${step.action}) failed: ${errorMessage(err)}`);
                resolve({ ...base, firedAtMs, ok: false, error: errorMessage(err) });
              },
            );
          });
          if (t === null) abortStep();
        }),
    ),
  );
  opts.signal?.removeEventListener('abort', onAbort);
  timers.close();
  const report = { name: scenario.name, steps: outcomes, ms: performance.now() - started };
  const aborted = outcomes.filter((o) => o.error === 'aborted').length;
  const failed = outcomes.filter((o) => !o.ok).length - aborted;
  const tail = [failed ? `${failed} step(s) failed` : '', aborted ? `${aborted} step(s) not run (stopped)` : ''].filter(Boolean).join(', ');
  log(`scenario ${scenario.name}: ${aborted ? 'stopped' : 'done'} after ${formatMs(report.ms)}${tail ? `, ${tail}` : ''}`);
  return report;
}

function isScenario(v: unknown): v is Scenario {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Array.isArray((v as Scenario).steps) &&
    typeof (v as Scenario).name === 'string' &&
    (v as Scenario).steps.every((s) => typeof s.atMs === 'number')
  );
}

function describe(step: ScenarioStep): string {
  switch (step.action) {
    case 'event':
      return `event ${JSON.stringify(step.event)}`;
    case 'flood':
      return `flood ${step.count ?? 100} ${step.payload ?? 'valid'}`;
    case 'badPayload':
      return `badPayload ${step.kind ?? 'not-json'}`;
    case 'silent':
      return step.on === false ? 'resume' : 'silent';
    default:
      return step.action;
  }
}

async function runStep(estate: ScenarioTarget, step: ScenarioStep, index: number, random?: () => number): Promise<string | undefined> {
  const d = estate.device(step.device);
  switch (step.action) {
    case 'event':
      if (!step.event) throw new Error('no event');
      return await d.publishEvent(step.event);
    case 'disconnect':
      await d.disconnectUncleanly();
      return undefined;
    case 'reconnect':
      await d.reconnect();
      return undefined;
    case 'silent':
      d.goSilent(step.on ?? true);
      return undefined;
    case 'resume':
      d.goSilent(false);
      return undefined;
    case 'flood': {
      const r = await flood(d, step.count ?? 100, step.payload ?? 'valid', random);
      if (r.failed > 0) throw new Error(`flood: ${r.failed} of ${r.sent} not acknowledged`);
      return undefined;
    }
    case 'badPayload': {
      const other = estate.devices.find((x) => x.id !== d.id)?.id;
      const ok = await sendBadPayload(d, step.kind ?? 'not-json', index, other);
      if (!ok) throw new Error('bad payload not sent');
      return undefined;
    }
  }
}
