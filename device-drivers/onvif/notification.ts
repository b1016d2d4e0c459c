import type { DeviceEvent } from '../../gateway/core/events.ts';
import { parseDateTime } from './time.ts';
import { lookupTopic, normalizeTopic, readState, type TopicRow } from './topics.ts';
import { attr, child, children, text, type XmlNode } from './xml.ts';

/** One wsnt:NotificationMessage, vendor-neutral. */
export interface Notification {
  /** The topic text as the camera sent it. */
  topic: string;
  /** After TOPIC_CLEANUPS. */
  normalized: string;
  utcTime: string | undefined;
  /** Initialized (state snapshot), Changed, Deleted; null for non-property events. */
  operation: 'Initialized' | 'Changed' | 'Deleted' | null;
  source: Record<string, string>;
  key: Record<string, string>;
  data: Record<string, string>;
}

function simpleItems(node: XmlNode | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!node) return out;
  for (const it of children(node, 'SimpleItem')) {
    const name = attr(it, 'Name');
    if (name) out[name] = (attr(it, 'Value') ?? '').slice(0, 256);
  }
  for (const it of children(node, 'ElementItem')) {
    const name = attr(it, 'Name');
    if (name && !(name in out)) out[name] = '[element]';
  }
  return out;
}

/** The NotificationMessages of a PullMessagesResponse. */
export function readNotifications(response: XmlNode): Notification[] {
  return children(response, 'NotificationMessage').map((nm) => {
    const topic = (text(nm, 'Topic') ?? '').slice(0, 512);
    const outer = child(nm, 'Message');
    const msg = child(outer, 'Message') ?? outer;
    const op = attr(msg, 'PropertyOperation');
    return {
      topic,
      normalized: normalizeTopic(topic),
      utcTime: attr(msg, 'UtcTime'),
      operation: op === 'Initialized' || op === 'Changed' || op === 'Deleted' ? op : null,
      source: simpleItems(child(msg, 'Source')),
      key: simpleItems(child(msg, 'Key')),
      data: simpleItems(child(msg, 'Data')),
    };
  });
}

/** The stable identity of a property: topic + source items + key items. */
export function propertyKey(n: Notification): string {
  const items = (r: Record<string, string>) =>
    Object.keys(r)
      .sort()
      .map((k) => `${k}=${r[k]}`)
      .join(',');
  return `${n.normalized}|${items(n.source)}|${items(n.key)}`;
}

export interface EventContext {
  deviceId: string;
  receivedAt: number;
  /** Camera clock minus box clock, when measured. */
  clockOffsetMs: number | null;
  clockTrusted: boolean;
}

export type Mapped =
  | { ok: true; event: DeviceEvent; row: TopicRow | null; state: boolean | null }
  | { ok: false; reason: string }
  /** Deliberately not an event (a property deleted). */
  | { ok: 'skip'; reason: string };

const GENERIC_MAX_ITEMS = 32;

/** Turn one notification into a DeviceEvent through the topic table; unknown topics become `generic` events. */
export function toEvent(n: Notification, ctx: EventContext): Mapped {
  if (n.operation === 'Deleted') return { ok: 'skip', reason: 'property deleted' };
  if (!n.normalized) return { ok: false, reason: 'notification without a topic' };
  const row = lookupTopic(n.normalized);
  const deviceTime = parseDateTime(n.utcTime);
  const base = {
    deviceId: ctx.deviceId,
    deviceTime,
    receivedAt: ctx.receivedAt,
    clockOffsetMs: ctx.clockOffsetMs,
    // A zero or missing camera timestamp is never trusted, whatever the clock offset.
    clockTrusted: ctx.clockTrusted && deviceTime !== null,
    ...(n.operation === 'Initialized' ? { initial: true } : {}),
    raw: rawOf(n),
  };
  if (!row) {
    const items = { ...n.source, ...n.key, ...n.data };
    const data = Object.fromEntries(Object.entries(items).slice(0, GENERIC_MAX_ITEMS));
    const state = guessState(n.data);
    const source = firstOf(n.source, Object.keys(n.source));
    return {
      ok: true,
      row: null,
      state,
      event: {
        ...base,
        kind: 'generic',
        active: state ?? true,
        ...(source ? { source: source.slice(0, 128) } : {}),
        attrs: { topic: n.topic, data },
      } as DeviceEvent,
    };
  }
  let active = true;
  let state: boolean | null = null;
  if (row.active) {
    const name = row.active.find((a) => a in n.data);
    if (name === undefined) return { ok: false, reason: `${row.id}: none of the data items ${row.active.join(', ')} is present` };
    const s = readState(n.data[name]);
    if (s === undefined) return { ok: false, reason: `${row.id}: ${name}=${JSON.stringify(n.data[name])} is not a state (true/false, 1/0, active/inactive)` };
    active = s;
    state = s;
  }
  const source = firstOf(n.source, row.source);
  const attrs: Record<string, string> = {};
  for (const [k, from] of Object.entries(row.attrs)) {
    const v = 'source' in from ? n.source[from.source] : 'data' in from ? n.data[from.data] : n.normalized.split('/').pop();
    if (v !== undefined && v !== '') attrs[k] = v.slice(0, k === 'direction' ? 32 : 64);
  }
  if (row.kind === 'digital_input' && !attrs.input) attrs.input = (source ?? '1').slice(0, 64);
  return { ok: true, row, state, event: { ...base, kind: row.kind, active, ...(source ? { source: source.slice(0, 128) } : {}), attrs } as DeviceEvent };
}

function firstOf(items: Record<string, string>, names: readonly string[]): string | undefined {
  for (const n of names) if (items[n] !== undefined && items[n] !== '') return items[n];
  return undefined;
}

function guessState(data: Record<string, string>): boolean | null {
  const values = Object.values(data)
    .map(readState)
    .filter((v): v is boolean => v !== undefined);
  return values.length === 1 ? values[0]! : null;
}

function rawOf(n: Notification): string {
  return JSON.stringify({ topic: n.topic, utc: n.utcTime, op: n.operation, source: n.source, key: n.key, data: n.data }).slice(0, 1024);
}
