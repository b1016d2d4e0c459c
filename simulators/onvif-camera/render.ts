import type { Flavour, SimEvent, SimEventType } from './types.ts';
import { isoTime, x } from './xml.ts';

/**
 * How each flavour of camera writes its events: the topic, its Source and
 * Data items and their literal values. These are the quirks the gateway must
 * read (trailing "/" from Hikvision-style firmware, "//." and "1"/"0" from
 * Dahua-style firmware, zero timestamps on Hikvision state snapshots).
 * Written from the ONVIF specs and vendor captures, independently of the
 * gateway's topic table.
 */
export interface QueuedMessage {
  topic: string;
  utcTime: string;
  operation: 'Initialized' | 'Changed' | 'Deleted' | null;
  source: Record<string, string>;
  key: Record<string, string>;
  data: Record<string, string>;
}

const RULE_ITEMS = (rule: string) => ({
  VideoSourceConfigurationToken: 'VideoSourceConfig_1',
  VideoAnalyticsConfigurationToken: 'VideoAnalyticsConfig_1',
  Rule: rule,
});

interface Rendered {
  topic: string;
  source: Record<string, string>;
  data: Record<string, string>;
  property: boolean;
}

function bool(flavour: Flavour, v: boolean): string {
  return flavour === 'dahua' ? (v ? '1' : '0') : v ? 'true' : 'false';
}

function suffix(flavour: Flavour): string {
  return flavour === 'hikvision' ? '/' : flavour === 'dahua' ? '//.' : '';
}

let objectIds = 0;

export function renderTyped(flavour: Flavour, type: SimEventType, active: boolean, source: string | undefined, rule: string | undefined): Rendered {
  const sfx = suffix(flavour);
  const b = bool(flavour, active);
  const hik = flavour === 'hikvision';
  switch (type) {
    case 'motion':
      return hik
        ? {
            topic: `tns1:RuleEngine/CellMotionDetector/Motion${sfx}`,
            source: RULE_ITEMS(rule ?? 'MyMotionDetectorRule'),
            data: { IsMotion: b },
            property: true,
          }
        : { topic: `tns1:VideoSource/MotionAlarm${sfx}`, source: { Source: source ?? 'VideoSource_1' }, data: { State: b }, property: true };
    case 'tamper':
      return hik
        ? { topic: `tns1:RuleEngine/TamperDetector/Tamper${sfx}`, source: RULE_ITEMS(rule ?? 'MyTamperDetectorRule'), data: { IsTamper: b }, property: true }
        : {
            topic: `tns1:VideoSource/GlobalSceneChange/${flavour === 'dahua' ? 'AnalyticsService' : 'ImagingService'}${sfx}`,
            source: { Source: source ?? 'VideoSource_1' },
            data: { State: b },
            property: true,
          };
    case 'intrusion':
      return { topic: `tns1:RuleEngine/FieldDetector/ObjectsInside${sfx}`, source: RULE_ITEMS(rule ?? 'Field_1'), data: { IsInside: b }, property: true };
    case 'line':
      return {
        topic: `tns1:RuleEngine/LineDetector/Crossed${sfx}`,
        source: RULE_ITEMS(rule ?? 'Line_1'),
        data: { ObjectId: String(++objectIds) },
        property: false,
      };
    case 'input':
      return {
        topic: `tns1:Device/Trigger/DigitalInput${sfx}`,
        source: { InputToken: source ?? (hik ? 'AlarmIn_1' : 'DigitalInput_1') },
        data: { LogicalState: b },
        property: true,
      };
  }
}

/** Render a scripted event into what a camera queues. */
export function toMessage(flavour: Flavour, e: SimEvent, cameraNowMs: number, operation: QueuedMessage['operation']): QueuedMessage & { property: boolean } {
  if (e.type === 'raw') {
    return {
      topic: e.topic,
      utcTime: e.utcTime ?? isoTime(cameraNowMs, true),
      operation: e.property ? operation : null,
      source: e.source ?? {},
      key: e.key ?? {},
      data: e.data ?? {},
      property: e.property,
    };
  }
  const r = renderTyped(flavour, e.type, e.active ?? true, e.source, e.rule);
  return {
    topic: r.topic,
    utcTime: isoTime(cameraNowMs, true),
    operation: r.property ? operation : null,
    source: r.source,
    key: {},
    data: r.data,
    property: r.property,
  };
}

/** An Initialized snapshot of a property; Hikvision-style firmware stamps these with a zero time. */
export function initialized(flavour: Flavour, m: QueuedMessage, cameraNowMs: number): QueuedMessage {
  return { ...m, operation: 'Initialized', utcTime: flavour === 'hikvision' ? '0000-00-00T00:00:00Z' : isoTime(cameraNowMs) };
}

function items(tag: string, r: Record<string, string>): string {
  const keys = Object.keys(r);
  if (!keys.length) return '';
  return `<tt:${tag}>${keys.map((k) => `<tt:SimpleItem Name="${x(k)}" Value="${x(r[k]!)}"/>`).join('')}</tt:${tag}>`;
}

export function messageXml(m: QueuedMessage, subscriptionAddress: string): string {
  const op = m.operation ? ` PropertyOperation="${m.operation}"` : '';
  return (
    `<wsnt:NotificationMessage><wsnt:SubscriptionReference><wsa:Address>${x(subscriptionAddress)}</wsa:Address></wsnt:SubscriptionReference>` +
    `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${x(m.topic)}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${x(m.utcTime)}"${op}>${items('Source', m.source)}${items('Key', m.key)}${items('Data', m.data)}</tt:Message></wsnt:Message>` +
    '</wsnt:NotificationMessage>'
  );
}
