/**
 * The ONVIF topic table: one row per topic the box understands, as data. A
 * new vendor quirk is one row (or one cleanup) and one test, never a new
 * function. Sources: ONVIF Core/Imaging/Analytics/DeviceIo specs, and the
 * vendor variants collected in ../shared/reference/protocols.md §1.9–1.10.
 */

export type TopicKind = 'motion' | 'tamper' | 'line_crossing' | 'intrusion' | 'digital_input';

/** Where one attribute of the event comes from. */
export type AttrFrom = { source: string } | { data: string } | { topicTail: true };

export interface TopicRow {
  /** Short name, used by tests and logs. */
  id: string;
  /** The topic after normalisation (no namespace prefixes, no trailing `/` or `//.`). A last segment `*` matches any one segment. */
  topic: string;
  kind: TopicKind;
  /** Data items carrying the state, the first one present wins; null for a pulse event (no state: every message is an occurrence). */
  active: readonly string[] | null;
  /** Source items naming the channel/input/rule inside the camera, the first one present wins. */
  source: readonly string[];
  /** The kind's attributes (see gateway/core/events.ts) and where each is read. */
  attrs: Readonly<Record<string, AttrFrom>>;
  /** Where this row comes from. */
  note: string;
}

const VIDEO_SOURCE = ['Source', 'VideoSourceToken', 'VideoSourceConfigurationToken', 'VideoSource'] as const;
const RULE_SOURCE = ['VideoSourceConfigurationToken', 'VideoSourceToken', 'Source', 'VideoAnalyticsConfigurationToken', 'Rule'] as const;

export const TOPIC_TABLE: readonly TopicRow[] = [
  {
    id: 'motion-alarm',
    topic: 'VideoSource/MotionAlarm',
    kind: 'motion',
    active: ['State'],
    source: VIDEO_SOURCE,
    attrs: {},
    note: 'Imaging spec; Dahua NVRs send State="1"',
  },
  {
    id: 'motion-alarm-typo',
    topic: 'VideoSoure/MotionAlarm',
    kind: 'motion',
    active: ['State'],
    source: VIDEO_SOURCE,
    attrs: {},
    note: 'misspelt topic seen on some firmware (onvif2mqtt)',
  },
  {
    id: 'cell-motion',
    topic: 'RuleEngine/CellMotionDetector/Motion',
    kind: 'motion',
    active: ['IsMotion'],
    source: RULE_SOURCE,
    attrs: { region: { source: 'Rule' } },
    note: 'Analytics spec; Hikvision/HiWatch motion',
  },
  {
    id: 'motion-region',
    topic: 'RuleEngine/MotionRegionDetector/Motion',
    kind: 'motion',
    active: ['State', 'IsMotion'],
    source: RULE_SOURCE,
    attrs: { region: { source: 'Rule' } },
    note: 'Analytics spec; State "1" or "true"',
  },
  {
    id: 'scene-change',
    topic: 'VideoSource/GlobalSceneChange/*',
    kind: 'tamper',
    active: ['State'],
    source: VIDEO_SOURCE,
    attrs: { cause: { topicTail: true } },
    note: 'Imaging spec: camera moved or covered; the last segment names the detecting service',
  },
  {
    id: 'tamper-detector',
    topic: 'RuleEngine/TamperDetector/Tamper',
    kind: 'tamper',
    active: ['IsTamper', 'State'],
    source: RULE_SOURCE,
    attrs: { cause: { source: 'Rule' } },
    note: 'Analytics spec tamper rule',
  },
  {
    id: 'digital-input',
    topic: 'Device/Trigger/DigitalInput',
    kind: 'digital_input',
    active: ['LogicalState', 'State'],
    source: ['InputToken', 'Source'],
    attrs: { input: { source: 'InputToken' } },
    note: 'DeviceIO spec: true = active (circuit closed if not configurable)',
  },
  {
    id: 'digital-input-imou',
    topic: 'VideoSource/Device/Trigger/DigitalInput',
    kind: 'digital_input',
    active: ['LogicalState', 'State'],
    source: ['InputToken', 'Source'],
    attrs: { input: { source: 'InputToken' } },
    note: 'Imou sends tns1:VideoSource/tns1:Device/Trigger/DigitalInput (HA#140575)',
  },
  {
    id: 'line-crossed',
    topic: 'RuleEngine/LineDetector/Crossed',
    kind: 'line_crossing',
    active: null,
    source: RULE_SOURCE,
    attrs: { rule: { source: 'Rule' }, direction: { data: 'Direction' } },
    note: 'Core spec: an event, not a property (Data ObjectId)',
  },
  {
    id: 'field-inside',
    topic: 'RuleEngine/FieldDetector/ObjectsInside',
    kind: 'intrusion',
    active: ['IsInside'],
    source: RULE_SOURCE,
    attrs: { rule: { source: 'Rule' } },
    note: 'Core spec field detector: 区域入侵',
  },
];

/** Literal values cameras use for a state (Dahua "1", relays "active"). Anything else is unreadable. */
export const STATE_VALUES: Readonly<Record<string, boolean>> = {
  true: true,
  '1': true,
  active: true,
  on: true,
  yes: true,
  false: false,
  '0': false,
  inactive: false,
  off: false,
  no: false,
};

export function readState(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return STATE_VALUES[v.trim().toLowerCase()];
}

/** Cleanups applied to every topic before lookup, in order (one row per quirk). */
export const TOPIC_CLEANUPS: readonly { pattern: RegExp; replace: string; note: string }[] = [
  { pattern: /\s+/g, replace: '', note: 'whitespace around or inside the topic text' },
  { pattern: /\/\/\.$/, replace: '', note: 'trailing "//." (several vendors, stripped by Home Assistant too)' },
  { pattern: /\/\.$/, replace: '', note: 'trailing "/."' },
  { pattern: /\/+$/, replace: '', note: 'trailing "/"' },
  { pattern: /(^|\/)[A-Za-z_][\w.-]*:/g, replace: '$1', note: 'namespace prefixes on each segment (tns1:, tnshik:, tnsaxis:...)' },
];

export function normalizeTopic(raw: string): string {
  let t = raw;
  for (const c of TOPIC_CLEANUPS) t = t.replace(c.pattern, c.replace);
  return t;
}

const exact = new Map(TOPIC_TABLE.filter((r) => !r.topic.endsWith('/*')).map((r) => [r.topic.toLowerCase(), r]));
const wild = TOPIC_TABLE.filter((r) => r.topic.endsWith('/*')).map((r) => ({ prefix: r.topic.slice(0, -1).toLowerCase(), row: r }));

/** The row for a (normalised) topic, or undefined for a topic the table does not know. */
export function lookupTopic(normalized: string): TopicRow | undefined {
  const t = normalized.toLowerCase();
  const hit = exact.get(t);
  if (hit) return hit;
  for (const w of wild) {
    if (t.startsWith(w.prefix) && t.length > w.prefix.length && !t.slice(w.prefix.length).includes('/')) return w.row;
  }
  return undefined;
}
