/** Alarm handling deadlines (三级预警), detection timings, and the detection rules themselves. */
import { z } from 'zod';
import { ALARM_CATEGORIES } from '../../gateway/core/alarm.ts';
import { eventKinds, type EventKind } from '../../gateway/core/events.ts';
import { idSchema, intSchema, nameSchema, quote } from './common.ts';
import { DEVICE_KINDS, PointTypeSchema, SENSOR_TYPES, ZONE_TYPES } from './devices.ts';

function level(n: 1 | 2 | 3, accept: number, close: number) {
  return z
    .strictObject({
      acceptMinutes: intSchema(1, 10080, accept, `Minutes to accept (受理) a level-${n} alarm before it is overdue`),
      closeMinutes: intSchema(1, 525600, close, `Minutes to close (办结) a level-${n} alarm before it is overdue`),
    })
    .prefault({})
    .describe(`Deadlines for level ${n} (${n === 1 ? 'highest' : n === 2 ? 'middle' : 'lowest'}).`);
}

// ---------------------------------------------------------------------------
// Building blocks of a rule

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const timeOfDay = (what: string) =>
  z
    .string()
    .superRefine((v, ctx) => {
      if (!HHMM.test(v)) ctx.addIssue({ code: 'custom', message: `${quote(v)} is not a time of day: write "HH:MM" in 24-hour form, e.g. "22:00"` });
    })
    .describe(`${what}, "HH:MM" local time of the site (24-hour, in quotes).`);

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const ScheduleSchema = z
  .strictObject({
    id: idSchema('Schedule id that rules name in `armedBy: [{ schedule: <id> }]`.'),
    name: nameSchema('Name people see, e.g. 夜间布防'),
    from: timeOfDay('Start of the armed period'),
    to: timeOfDay('End of the armed period; earlier than `from` means it runs past midnight (22:00–06:00)'),
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .optional()
      .describe('Days the period starts on (mon..sun); an overnight period belongs to the day it starts. Default: every day.'),
  })
  .describe('A weekly time window in the site time zone (site.timezone), e.g. the night a perimeter is armed.');
export type ScheduleConfig = z.output<typeof ScheduleSchema>;

const deviceRef = z.string().describe('Id of a device in `devices`.');

export const FilterSchema = z
  .strictObject({
    kinds: z
      .array(z.enum(eventKinds as [EventKind, ...EventKind[]]))
      .min(1)
      .describe('Event kinds that match (see gateway/core/events.ts), e.g. [door_forced] or [motion, line_crossing].'),
    active: z
      .boolean()
      .default(true)
      .describe('true (default): the start of a condition (alarm, offline, pressed); false: its end (restore). Momentary kinds are always true.'),
    devices: z.array(deviceRef).min(1).optional().describe('Only these devices (ids).'),
    deviceKinds: z
      .array(z.enum(DEVICE_KINDS))
      .min(1)
      .optional()
      .describe(`Only devices of these kinds: ${DEVICE_KINDS.join(', ')}. Box events (storage) have no device kind.`),
    grids: z.array(z.string()).min(1).optional().describe('Only devices in these grids (网格 codes).'),
    points: z.array(PointTypeSchema).min(1).optional().describe('Only devices at these point types: gate, perimeter, entrance, intersection, public_area.'),
    buildings: z.array(z.string().min(1)).min(1).optional().describe('Only devices in these buildings (place.building, e.g. 3栋).'),
    zoneTypes: z
      .array(z.enum(ZONE_TYPES))
      .min(1)
      .optional()
      .describe('For zone_alarm events: only zones of these types (intrusion, perimeter, fire, panic); other kinds are not affected.'),
    sensorTypes: z.array(z.enum(SENSOR_TYPES)).min(1).optional().describe('Only sensors of these types (smoke, water_leak, gas, contact, pir).'),
  })
  .describe('Which events match: kinds, and optionally devices, device kinds, grids, point types, buildings, zone and sensor types (all must hold).');
export type FilterConfig = z.output<typeof FilterSchema>;

export const ArmSourceSchema = z
  .strictObject({
    panel: z.string().optional().describe('Armed while this panel is armed (by its armed/disarmed events); "self" is the panel the event comes from.'),
    modes: z
      .array(z.enum(['away', 'home', 'night']))
      .min(1)
      .optional()
      .describe('With `panel`: only these arming modes count (default any).'),
    schedule: z.string().optional().describe('Armed during this schedule (an id from rules.schedules).'),
  })
  .superRefine((v, ctx) => {
    if ((v.panel === undefined) === (v.schedule === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of `panel` or `schedule`', params: { hint: 'e.g. { panel: self } or { schedule: night }' } });
    }
    if (v.modes && v.panel === undefined) ctx.addIssue({ code: 'custom', path: ['modes'], message: '`modes` only goes with `panel`' });
  })
  .describe('One arming source: { panel: <id>|self, modes? } or { schedule: <id> }.');
export type ArmSourceConfig = z.output<typeof ArmSourceSchema>;

export const LinkageSchema = z
  .strictObject({
    snapshots: z
      .enum(['linked', 'none'])
      .default('linked')
      .describe('linked (default): a snapshot from each camera linked to the device (or zone) as evidence; none: no snapshots.'),
    cameras: z.array(deviceRef).default([]).describe('More cameras to take a snapshot from (onvif_camera ids, default []).'),
    ptz: z
      .strictObject({
        camera: deviceRef.describe('A PTZ camera (onvif_camera with ptz: true).'),
        preset: z.string().min(1).max(64).describe('Preset token or name on the camera, in quotes.'),
      })
      .optional()
      .describe('Turn a PTZ camera to a preset.'),
    siren: z
      .strictObject({
        device: deviceRef.describe('A siren device.'),
        seconds: z.number().int().min(1).max(1800).describe("How long it sounds (at most the siren's maxDurationSeconds)."),
      })
      .optional()
      .describe('Sound a siren for N seconds.'),
    broadcast: z
      .strictObject({
        device: deviceRef.describe('A loudspeaker device.'),
        clip: z.string().describe("A clip id from the loudspeaker's clips."),
        seconds: z.number().int().min(1).max(600).optional().describe('Play for at most this long (optional).'),
      })
      .optional()
      .describe('Play a clip on a loudspeaker (广播喊话).'),
    ttlSeconds: intSchema(5, 600, 30, 'Seconds a linkage command may wait for its device (offline or busy) before it expires unsent'),
  })
  .describe('What devices do when the alarm opens; each is a command with an expiry and an audit entry, its outcome in the alarm history.');
export type LinkageConfig = z.output<typeof LinkageSchema>;

const common = {
  id: idSchema("Rule id, unique; also the alarm's `rule` (2..64 of a-z 0-9 - _). The id of a built-in rule replaces it."),
  name: nameSchema('Alarm title people see, e.g. 周界报警', 64),
  enabled: z.boolean().default(true).describe('false: the rule is kept but does nothing (default true).'),
  level: z
    .number()
    .int()
    .min(1)
    .max(3)
    .transform((v) => v as 1 | 2 | 3)
    .describe('三级预警: 1 (most urgent), 2 or 3.'),
  category: z.enum(ALARM_CATEGORIES).describe('public_order 治安, fire 消防, device_fault 设备故障, help 求助, hazard 安全隐患.'),
  armedBy: z.array(ArmSourceSchema).default([]).describe('The rule only fires while one of these is armed (a panel, a schedule); [] (default): always.'),
  dedupe: z
    .enum(['point', 'device', 'building', 'grid', 'site'])
    .default('point')
    .describe(
      'While its alarm is open, a repeat of the condition on the same point (default: device + zone), device, building, grid or site adds evidence and a count instead of opening another.',
    ),
  cooldownSeconds: intSchema(0, 86400, 300, 'After its alarm is closed (办结/误报), repeats within this many seconds open no new alarm'),
  restore: z
    .enum(['note', 'resolve', 'ignore'])
    .default('note')
    .describe(
      'When the condition ends (restore, back online): note (default) writes it into the alarm history, resolve closes the alarm, ignore does nothing.',
    ),
  stuckMinutes: z
    .number()
    .int()
    .min(1)
    .max(1440)
    .optional()
    .describe('An active state with no stop after this many minutes is cleared with a note (default rules.stuckMinutes).'),
  linkage: LinkageSchema.optional(),
};

export const EventRuleSchema = z
  .strictObject({
    type: z.literal('event').describe('event: one device event (with filters, arming, threshold or hold) opens the alarm.'),
    ...common,
    when: FilterSchema,
    threshold: z
      .strictObject({
        count: z.number().int().min(2).max(10000).describe('How many times the event must occur...'),
        withinSeconds: z.number().int().min(1).max(86400).describe('...within this many seconds (per dedupe scope) before the alarm opens.'),
      })
      .optional()
      .describe('Flap filter: the alarm opens only when the event repeats `count` times within `withinSeconds`.'),
    holdSeconds: z
      .number()
      .int()
      .min(1)
      .max(86400)
      .optional()
      .describe('Debounce: the condition must stay active this long (no stop event) before the alarm opens.'),
  })
  .describe('A rule on one event.');

export const PairRuleSchema = z
  .strictObject({
    type: z.literal('pair').describe('pair: two related events within a window confirm each other (e.g. door forced + motion on its camera).'),
    ...common,
    first: FilterSchema.describe('The anchor event, e.g. door_forced.'),
    second: FilterSchema.describe('The confirming event, e.g. motion or line_crossing on a camera.'),
    relation: z
      .enum(['linked_camera', 'same_device', 'same_building', 'same_grid'])
      .default('linked_camera')
      .describe(
        "How the two must be related: linked_camera (the second comes from a camera linked to the first's device or zone), same_device, same_building, same_grid.",
      ),
    withinSeconds: intSchema(1, 3600, 30, 'Both must occur within this many seconds of each other, in either order'),
    absorb: z
      .boolean()
      .default(true)
      .describe('true (default): an open alarm already holding one of the events is raised to this rule (level, title); false: always a new alarm.'),
  })
  .describe('A correlation of two related events.');

export const GroupRuleSchema = z
  .strictObject({
    type: z
      .literal('group')
      .describe('group: the same condition on several devices of one building/grid within a window (two smoke sensors, cameras going offline).'),
    ...common,
    when: FilterSchema,
    groupBy: z
      .enum(['building', 'building_or_grid', 'unit', 'grid', 'site'])
      .default('building')
      .describe('Devices count together per building, per building (or grid for devices with no building), per unit, per grid or for the whole site.'),
    minDevices: intSchema(2, 100, 2, 'Distinct devices that must match'),
    withinSeconds: intSchema(1, 3600, 120, 'Window in seconds'),
    absorb: z
      .boolean()
      .default(true)
      .describe('true (default): an open alarm already holding one of the events is raised to this rule; false: a new alarm, the others get a note.'),
  })
  .describe('A correlation over several devices.');

export const RuleSchema = z
  .discriminatedUnion('type', [EventRuleSchema, PairRuleSchema, GroupRuleSchema])
  .describe('One detection rule; `type` is event, pair or group.');
export type RuleConfig = z.output<typeof RuleSchema>;
export type RuleInput = z.input<typeof RuleSchema>;
export type EventRuleConfig = z.output<typeof EventRuleSchema>;
export type PairRuleConfig = z.output<typeof PairRuleSchema>;
export type GroupRuleConfig = z.output<typeof GroupRuleSchema>;

// ---------------------------------------------------------------------------
// Built-in rules: what a 小区 gets out of the box (listed in the README).

const snap = { snapshots: 'linked' } as const;

/** Built-in rules, as a site file would write them. A rule in `rules.list` with the same id replaces one. */
export const DEFAULT_RULES: readonly RuleInput[] = [
  { type: 'event', id: 'door-forced', name: '门被强行打开', level: 2, category: 'public_order', when: { kinds: ['door_forced'] }, linkage: snap },
  { type: 'event', id: 'door-held-open', name: '门长时间未关', level: 3, category: 'hazard', when: { kinds: ['door_held_open'] } },
  {
    type: 'event',
    id: 'perimeter-zone',
    name: '周界报警',
    level: 2,
    category: 'public_order',
    when: { kinds: ['zone_alarm'], zoneTypes: ['perimeter'] },
    armedBy: [{ panel: 'self' }, { schedule: 'night' }],
    linkage: snap,
  },
  {
    type: 'event',
    id: 'intrusion-zone',
    name: '入侵报警',
    level: 2,
    category: 'public_order',
    when: { kinds: ['zone_alarm'], zoneTypes: ['intrusion'] },
    armedBy: [{ panel: 'self' }],
    linkage: snap,
  },
  {
    type: 'event',
    id: 'fire-zone',
    name: '火警（报警主机消防防区）',
    level: 1,
    category: 'fire',
    when: { kinds: ['zone_alarm'], zoneTypes: ['fire'] },
    linkage: snap,
  },
  {
    type: 'event',
    id: 'panic-zone',
    name: '紧急求助（报警主机）',
    level: 1,
    category: 'help',
    when: { kinds: ['zone_alarm'], zoneTypes: ['panic'] },
    linkage: snap,
  },
  { type: 'event', id: 'sos', name: '一键报警求助', level: 1, category: 'help', when: { kinds: ['sos'] }, linkage: snap },
  { type: 'event', id: 'smoke', name: '烟感报警（待确认）', level: 2, category: 'fire', when: { kinds: ['smoke'] }, linkage: snap },
  { type: 'event', id: 'gas-leak', name: '燃气泄漏', level: 1, category: 'hazard', when: { kinds: ['gas'] } },
  { type: 'event', id: 'water-leak', name: '水浸报警', level: 3, category: 'hazard', when: { kinds: ['water_leak'] } },
  {
    type: 'event',
    id: 'perimeter-crossing-night',
    name: '周界越界（夜间）',
    level: 2,
    category: 'public_order',
    when: { kinds: ['line_crossing', 'intrusion'], deviceKinds: ['onvif_camera'], points: ['perimeter'] },
    armedBy: [{ schedule: 'night' }],
    linkage: snap,
  },
  {
    type: 'event',
    id: 'perimeter-motion-night',
    name: '周界移动侦测（夜间）',
    level: 3,
    category: 'public_order',
    when: { kinds: ['motion'], deviceKinds: ['onvif_camera'], points: ['perimeter'] },
    armedBy: [{ schedule: 'night' }],
    threshold: { count: 3, withinSeconds: 60 },
    dedupe: 'device',
  },
  { type: 'event', id: 'tamper', name: '设备防拆/遮挡', level: 2, category: 'device_fault', when: { kinds: ['tamper'] }, linkage: snap },
  { type: 'event', id: 'device-offline', name: '设备离线', level: 3, category: 'device_fault', when: { kinds: ['device_offline'] }, dedupe: 'device' },
  {
    type: 'event',
    id: 'event-channel-lost',
    name: '摄像机事件通道中断',
    level: 3,
    category: 'device_fault',
    when: { kinds: ['event_channel_lost'] },
    holdSeconds: 300,
    dedupe: 'device',
  },
  { type: 'event', id: 'device-silent', name: '设备长时间无上报', level: 3, category: 'device_fault', when: { kinds: ['device_silent'] }, dedupe: 'device' },
  { type: 'event', id: 'panel-trouble', name: '报警主机故障', level: 3, category: 'device_fault', when: { kinds: ['trouble'] } },
  {
    type: 'event',
    id: 'box-storage',
    name: '网关存储告警',
    level: 2,
    category: 'device_fault',
    when: { kinds: ['storage_loss', 'storage_recovered'] },
    dedupe: 'site',
  },
  {
    type: 'pair',
    id: 'intrusion-confirmed',
    name: '确认入侵（门被强开且联动摄像机发现目标）',
    level: 1,
    category: 'public_order',
    first: { kinds: ['door_forced'] },
    second: { kinds: ['motion', 'line_crossing', 'intrusion'], deviceKinds: ['onvif_camera'] },
    relation: 'linked_camera',
    withinSeconds: 30,
  },
  {
    type: 'pair',
    id: 'perimeter-confirmed',
    name: '确认周界入侵（防区报警且联动摄像机发现目标）',
    level: 1,
    category: 'public_order',
    first: { kinds: ['zone_alarm'], zoneTypes: ['perimeter', 'intrusion'] },
    second: { kinds: ['motion', 'line_crossing', 'intrusion'], deviceKinds: ['onvif_camera'] },
    relation: 'linked_camera',
    withinSeconds: 30,
    armedBy: [{ panel: 'self' }, { schedule: 'night' }],
  },
  {
    type: 'group',
    id: 'fire-confirmed',
    name: '确认火情（同一楼栋两处烟感报警）',
    level: 1,
    category: 'fire',
    when: { kinds: ['smoke'] },
    groupBy: 'building_or_grid',
    minDevices: 2,
    withinSeconds: 120,
  },
  {
    type: 'group',
    id: 'camera-sabotage',
    name: '疑似破坏或停电（同一网格多路摄像机同时离线）',
    level: 1,
    category: 'public_order',
    when: { kinds: ['device_offline'], deviceKinds: ['onvif_camera'] },
    groupBy: 'grid',
    minDevices: 3,
    withinSeconds: 60,
    absorb: false,
  },
];

export const DEFAULT_SCHEDULES: readonly z.input<typeof ScheduleSchema>[] = [{ id: 'night', name: '夜间布防', from: '22:00', to: '06:00' }];

export const RulesSchema = z
  .strictObject({
    deadlines: z
      .strictObject({
        level1: level(1, 5, 60),
        level2: level(2, 15, 240),
        level3: level(3, 60, 1440),
      })
      .prefault({})
      .describe('Handling deadlines per alarm level (限时办结).'),
    offlineDebounceSeconds: intSchema(0, 3600, 60, 'Seconds a device must stay unreachable before device_offline'),
    escalation: z
      .strictObject({
        raiseLevel: z.boolean().default(true).describe('An alarm that misses a deadline becomes one level more urgent, once per deadline (default true).'),
        flagCounty: z
          .enum(['any', 'accept', 'close', 'never'])
          .default('any')
          .describe('Which missed deadline flags the alarm for the county (上报): any (default), accept (受理), close (办结), never.'),
      })
      .prefault({})
      .describe('What happens when an alarm misses a deadline (超时): it is always marked overdue.'),
    stuckMinutes: intSchema(1, 1440, 10, 'An active state with no stop after this many minutes is cleared with a note (cameras often never send the stop)'),
    schedules: z
      .array(ScheduleSchema)
      .default(() => DEFAULT_SCHEDULES.map((s) => ScheduleSchema.parse(s)))
      .describe('Weekly arming windows in the site time zone (default: night 22:00–06:00).'),
    defaults: z.boolean().default(true).describe('Use the built-in rules listed in the README (default true).'),
    disabled: z.array(z.string()).default([]).describe('Ids of built-in rules to switch off (default []).'),
    list: z.array(RuleSchema).default([]).describe("The site's own rules; one with a built-in rule's id replaces it (default [])."),
  })
  .describe('Detection rules: deadlines, escalation, schedules and the rules that turn events into alarms.');
export type RulesConfig = z.output<typeof RulesSchema>;

let parsedDefaults: RuleConfig[] | undefined;

/** The built-in rules, parsed (defaults filled in). */
export function defaultRules(): RuleConfig[] {
  parsedDefaults ??= DEFAULT_RULES.map((r) => RuleSchema.parse(r));
  return parsedDefaults;
}

/** The rules a site runs: built-ins (unless switched off or replaced) then its own, each with where it came from. */
export function effectiveRules(rules: Pick<RulesConfig, 'defaults' | 'disabled' | 'list'>): { rule: RuleConfig; source: 'builtin' | number }[] {
  const own = new Set(rules.list.map((r) => r.id));
  const off = new Set(rules.disabled);
  const out: { rule: RuleConfig; source: 'builtin' | number }[] = [];
  if (rules.defaults) for (const r of defaultRules()) if (!own.has(r.id) && !off.has(r.id)) out.push({ rule: r, source: 'builtin' });
  rules.list.forEach((r, i) => out.push({ rule: r, source: i }));
  return out;
}
