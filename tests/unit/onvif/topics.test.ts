import { describe, expect, it } from 'vitest';
import { readNotifications, toEvent, type Notification } from '../../../device-drivers/onvif/notification.ts';
import { lookupTopic, normalizeTopic, TOPIC_TABLE } from '../../../device-drivers/onvif/topics.ts';
import { parseXml, child, path } from '../../../device-drivers/onvif/xml.ts';
import { DeviceEventSchema } from '../../../gateway/core/events.ts';

/** A PullMessagesResponse as a camera writes it, with arbitrary (vendor) prefixes. */
function response(messages: string[]): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics" ' +
    'xmlns:tev="http://www.onvif.org/ver10/events/wsdl"><env:Body><tev:PullMessagesResponse><tev:CurrentTime>2026-11-21T02:00:00Z</tev:CurrentTime>' +
    `<tev:TerminationTime>2026-11-21T02:10:00Z</tev:TerminationTime>${messages.join('')}</tev:PullMessagesResponse></env:Body></env:Envelope>`
  );
}

function message(o: {
  topic: string;
  utc?: string;
  op?: string | null;
  source?: Record<string, string>;
  data?: Record<string, string>;
  key?: Record<string, string>;
}): string {
  const items = (tag: string, r: Record<string, string> | undefined) =>
    r
      ? `<tt:${tag}>${Object.entries(r)
          .map(([k, v]) => `<tt:SimpleItem Name="${k}" Value="${v}"/>`)
          .join('')}</tt:${tag}>`
      : '';
  const op = o.op === null ? '' : ` PropertyOperation="${o.op ?? 'Changed'}"`;
  return (
    `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${o.topic}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${o.utc ?? '2026-11-21T01:59:58.250Z'}"${op}>${items('Source', o.source)}${items('Key', o.key)}${items('Data', o.data)}</tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}

function parse(xml: string): Notification[] {
  const body = path(parseXml(xml), 'Envelope', 'Body');
  return readNotifications(child(body, 'PullMessagesResponse')!);
}

const ctx = { deviceId: 'cam-1', receivedAt: Date.UTC(2026, 10, 21, 2, 0, 0), clockOffsetMs: -1750, clockTrusted: true };
const RULE = { VideoSourceConfigurationToken: 'vsconf', VideoAnalyticsConfigurationToken: 'vaconf', Rule: 'MyRule' };

/** One case (at least) per row of the topic table, in its standard form and in the vendor variants seen in the field. */
const CASES: { row: string; what: string; msg: Parameters<typeof message>[0]; expect: Record<string, unknown> }[] = [
  {
    row: 'motion-alarm',
    what: 'standard',
    msg: { topic: 'tns1:VideoSource/MotionAlarm', source: { Source: 'VideoSource_1' }, data: { State: 'true' } },
    expect: { kind: 'motion', active: true, source: 'VideoSource_1', attrs: {} },
  },
  {
    row: 'motion-alarm',
    what: 'Dahua "0" and //.',
    msg: { topic: 'tns1:VideoSource/MotionAlarm//.', source: { VideoSourceConfigurationToken: '00000' }, data: { State: '0' } },
    expect: { kind: 'motion', active: false, source: '00000' },
  },
  {
    row: 'motion-alarm-typo',
    what: 'misspelt topic',
    msg: { topic: 'tns1:VideoSoure/MotionAlarm', source: { Source: 'vs1' }, data: { State: '1' } },
    expect: { kind: 'motion', active: true },
  },
  {
    row: 'cell-motion',
    what: 'Hikvision, trailing /',
    msg: { topic: 'tns1:RuleEngine/CellMotionDetector/Motion/', source: RULE, data: { IsMotion: 'true' } },
    expect: { kind: 'motion', active: true, source: 'vsconf', attrs: { region: 'MyRule' } },
  },
  {
    row: 'motion-region',
    what: 'State "1"',
    msg: { topic: 'tns1:RuleEngine/MotionRegionDetector/Motion', source: RULE, data: { State: '1' } },
    expect: { kind: 'motion', active: true, attrs: { region: 'MyRule' } },
  },
  {
    row: 'scene-change',
    what: 'ImagingService',
    msg: { topic: 'tns1:VideoSource/GlobalSceneChange/ImagingService', source: { Source: 'VideoSource_1' }, data: { State: 'true' } },
    expect: { kind: 'tamper', active: true, attrs: { cause: 'ImagingService' } },
  },
  {
    row: 'scene-change',
    what: 'AnalyticsService, Dahua',
    msg: { topic: 'tns1:VideoSource/GlobalSceneChange/AnalyticsService//.', source: { Source: '0' }, data: { State: '1' } },
    expect: { kind: 'tamper', active: true, attrs: { cause: 'AnalyticsService' } },
  },
  {
    row: 'tamper-detector',
    what: 'Hikvision',
    msg: { topic: 'tns1:RuleEngine/TamperDetector/Tamper/', source: RULE, data: { IsTamper: 'false' } },
    expect: { kind: 'tamper', active: false, attrs: { cause: 'MyRule' } },
  },
  {
    row: 'digital-input',
    what: 'standard',
    msg: { topic: 'tns1:Device/Trigger/DigitalInput', source: { InputToken: 'DigitalInput_1' }, data: { LogicalState: 'true' } },
    expect: { kind: 'digital_input', active: true, source: 'DigitalInput_1', attrs: { input: 'DigitalInput_1' } },
  },
  {
    row: 'digital-input',
    what: 'relay-style "active"',
    msg: { topic: 'tns1:Device/Trigger/DigitalInput', source: { InputToken: 'AlarmIn_2' }, data: { LogicalState: 'inactive' } },
    expect: { kind: 'digital_input', active: false, attrs: { input: 'AlarmIn_2' } },
  },
  {
    row: 'digital-input-imou',
    what: 'Imou malformed topic',
    msg: { topic: 'tns1:VideoSource/tns1:Device/Trigger/DigitalInput', source: { InputToken: '1' }, data: { LogicalState: 'true' } },
    expect: { kind: 'digital_input', active: true, attrs: { input: '1' } },
  },
  {
    row: 'line-crossed',
    what: 'an event, no state',
    msg: { topic: 'tns1:RuleEngine/LineDetector/Crossed', op: null, source: RULE, data: { ObjectId: '15' } },
    expect: { kind: 'line_crossing', active: true, attrs: { rule: 'MyRule' } },
  },
  {
    row: 'field-inside',
    what: 'intrusion',
    msg: { topic: 'tns1:RuleEngine/FieldDetector/ObjectsInside', source: RULE, key: { ObjectId: '3' }, data: { IsInside: 'true' } },
    expect: { kind: 'intrusion', active: true, attrs: { rule: 'MyRule' } },
  },
];

describe('the ONVIF topic table', () => {
  it('has a test case for every row', () => {
    expect(new Set(CASES.map((c) => c.row))).toEqual(new Set(TOPIC_TABLE.map((r) => r.id)));
  });

  for (const c of CASES) {
    it(`${c.row}: ${c.what}`, () => {
      const [n] = parse(response([message(c.msg)]));
      expect(lookupTopic(n!.normalized)?.id).toBe(c.row);
      const m = toEvent(n!, ctx);
      expect(m.ok).toBe(true);
      if (m.ok !== true) return;
      expect(m.event).toMatchObject(c.expect);
      expect(DeviceEventSchema.safeParse(m.event).success).toBe(true);
      expect(m.event.deviceTime).toBe(Date.UTC(2026, 10, 21, 1, 59, 58, 250));
      expect(m.event.receivedAt).toBe(ctx.receivedAt);
      expect(m.event.clockOffsetMs).toBe(-1750);
    });
  }

  it('normalises vendor topic forms', () => {
    expect(normalizeTopic('tns1:RuleEngine/CellMotionDetector/Motion/')).toBe('RuleEngine/CellMotionDetector/Motion');
    expect(normalizeTopic('tns1:VideoSource/MotionAlarm//.')).toBe('VideoSource/MotionAlarm');
    expect(normalizeTopic(' tnshik:RuleEngine/tns1:LineDetector/Crossed ')).toBe('RuleEngine/LineDetector/Crossed');
    expect(lookupTopic('VideoSource/GlobalSceneChange')).toBeUndefined(); // the wildcard needs its last segment
  });

  it('marks Initialized messages as state snapshots (initial) and Changed ones as news', () => {
    const [init, changed] = parse(
      response([
        message({ topic: 'tns1:VideoSource/MotionAlarm', op: 'Initialized', source: { Source: 'vs' }, data: { State: 'false' } }),
        message({ topic: 'tns1:VideoSource/MotionAlarm', op: 'Changed', source: { Source: 'vs' }, data: { State: 'true' } }),
      ]),
    );
    const a = toEvent(init!, ctx);
    const b = toEvent(changed!, ctx);
    expect(a.ok === true && a.event.initial).toBe(true);
    expect(b.ok === true && b.event.initial).toBeUndefined();
  });

  it('does not trust Hikvision zero timestamps or the 1970 "never happened" time', () => {
    for (const utc of ['0000-00-00T00:00:00Z', '1970-01-01T00:00:00Z', 'garbage']) {
      const [n] = parse(response([message({ topic: 'tns1:RuleEngine/CellMotionDetector/Motion', utc, source: RULE, data: { IsMotion: 'true' } })]));
      const m = toEvent(n!, ctx);
      expect(m.ok === true && m.event).toMatchObject({ deviceTime: null, clockTrusted: false, receivedAt: ctx.receivedAt });
    }
  });

  it('keeps unknown topics as generic events with their raw topic and items', () => {
    const [n] = parse(
      response([message({ topic: 'tns1:RuleEngine/PeopleDetector/People', source: { VideoSourceConfigurationToken: 'vs' }, data: { IsPeople: 'true' } })]),
    );
    const m = toEvent(n!, ctx);
    expect(m.ok).toBe(true);
    if (m.ok !== true) return;
    expect(m.event).toMatchObject({
      kind: 'generic',
      active: true,
      attrs: { topic: 'tns1:RuleEngine/PeopleDetector/People', data: { VideoSourceConfigurationToken: 'vs', IsPeople: 'true' } },
    });
    expect(DeviceEventSchema.safeParse(m.event).success).toBe(true);
  });

  it('refuses a known topic whose state cannot be read (kept as a reject, never guessed)', () => {
    const [a, b] = parse(
      response([
        message({ topic: 'tns1:VideoSource/MotionAlarm', source: { Source: 'vs' }, data: { State: 'maybe' } }),
        message({ topic: 'tns1:RuleEngine/FieldDetector/ObjectsInside', source: RULE, data: { Count: '2' } }),
      ]),
    );
    expect(toEvent(a!, ctx)).toEqual({ ok: false, reason: expect.stringContaining('"maybe" is not a state') });
    expect(toEvent(b!, ctx)).toEqual({ ok: false, reason: expect.stringContaining('IsInside') });
  });

  it('skips Deleted properties and tolerates an empty or strange pull answer', () => {
    const [d] = parse(response([message({ topic: 'tns1:VideoSource/MotionAlarm', op: 'Deleted', source: { Source: 'vs' }, data: { State: 'false' } })]));
    expect(toEvent(d!, ctx).ok).toBe('skip');
    expect(parse(response([]))).toEqual([]);
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')).toThrow(/DOCTYPE/);
  });
});
