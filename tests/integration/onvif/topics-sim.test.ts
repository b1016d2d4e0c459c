import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_TABLE } from '../../../device-drivers/onvif/topics.ts';
import type { SimEvent } from '../../../simulators/onvif-camera/index.ts';
import { parked, rig, until, type Rig } from './helpers.ts';

/**
 * Every row of the topic table end to end: the simulated camera (in the
 * flavour that uses the row) raises the event, the driver pulls it and
 * emits the normalised event.
 */
const CASES: { row: string; camera: string; event: SimEvent; kind: string; active: boolean }[] = [
  { row: 'motion-alarm', camera: 'cam-standard', event: { type: 'motion', active: true }, kind: 'motion', active: true },
  { row: 'motion-alarm', camera: 'cam-dahua', event: { type: 'motion', active: true }, kind: 'motion', active: true },
  { row: 'cell-motion', camera: 'cam-hikvision', event: { type: 'motion', active: true }, kind: 'motion', active: true },
  { row: 'scene-change', camera: 'cam-standard', event: { type: 'tamper', active: true }, kind: 'tamper', active: true },
  { row: 'scene-change', camera: 'cam-dahua', event: { type: 'tamper', active: true }, kind: 'tamper', active: true },
  { row: 'tamper-detector', camera: 'cam-hikvision', event: { type: 'tamper', active: true }, kind: 'tamper', active: true },
  { row: 'field-inside', camera: 'cam-standard', event: { type: 'intrusion', active: true }, kind: 'intrusion', active: true },
  { row: 'field-inside', camera: 'cam-hikvision', event: { type: 'intrusion', active: true }, kind: 'intrusion', active: true },
  { row: 'field-inside', camera: 'cam-dahua', event: { type: 'intrusion', active: true }, kind: 'intrusion', active: true },
  { row: 'line-crossed', camera: 'cam-standard', event: { type: 'line', rule: '北门' }, kind: 'line_crossing', active: true },
  { row: 'line-crossed', camera: 'cam-hikvision', event: { type: 'line' }, kind: 'line_crossing', active: true },
  { row: 'line-crossed', camera: 'cam-dahua', event: { type: 'line' }, kind: 'line_crossing', active: true },
  { row: 'digital-input', camera: 'cam-standard', event: { type: 'input', active: true }, kind: 'digital_input', active: true },
  { row: 'digital-input', camera: 'cam-hikvision', event: { type: 'input', active: true }, kind: 'digital_input', active: true },
  { row: 'digital-input', camera: 'cam-dahua', event: { type: 'input', active: true }, kind: 'digital_input', active: true },
  {
    row: 'motion-alarm-typo',
    camera: 'cam-standard',
    event: { type: 'raw', property: true, topic: 'tns1:VideoSoure/MotionAlarm', source: { Source: 'VideoSource_9' }, data: { State: 'true' } },
    kind: 'motion',
    active: true,
  },
  {
    row: 'motion-region',
    camera: 'cam-standard',
    event: { type: 'raw', property: true, topic: 'tns1:RuleEngine/MotionRegionDetector/Motion', source: { Rule: 'R1' }, data: { State: '1' } },
    kind: 'motion',
    active: true,
  },
  {
    row: 'digital-input-imou',
    camera: 'cam-standard',
    event: {
      type: 'raw',
      property: true,
      topic: 'tns1:VideoSource/tns1:Device/Trigger/DigitalInput',
      source: { InputToken: 'IO1' },
      data: { LogicalState: 'true' },
    },
    kind: 'digital_input',
    active: true,
  },
];

describe('every topic-table row through the simulator and the driver', { timeout: 30_000 }, () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig([
      { id: 'cam-standard', flavour: 'standard' },
      { id: 'cam-hikvision', flavour: 'hikvision' },
      { id: 'cam-dahua', flavour: 'dahua' },
    ]);
    for (const id of ['cam-standard', 'cam-hikvision', 'cam-dahua']) await parked(r.farm, id);
    await until('initial states of the three cameras', () => r.sink.events.length === 12);
  });
  afterAll(() => r.stop());

  it('covers every row', () => {
    expect(new Set(CASES.map((c) => c.row))).toEqual(new Set(TOPIC_TABLE.map((t) => t.id)));
  });

  it('Hikvision-style state snapshots carry a zero timestamp: kept with deviceTime null, not trusted', () => {
    const hik = r.sink.events.filter((e) => e.deviceId === 'cam-hikvision');
    expect(hik).toHaveLength(4);
    expect(hik.every((e) => e.initial && e.deviceTime === null && !e.clockTrusted)).toBe(true);
    const std = r.sink.events.filter((e) => e.deviceId === 'cam-standard');
    expect(std.every((e) => e.initial && e.deviceTime !== null && e.clockTrusted)).toBe(true);
  });

  for (const c of CASES) {
    it(`${c.row} from ${c.camera}${c.event.type === 'raw' ? ` (${c.event.topic})` : ''}`, async () => {
      const before = r.sink.events.length;
      r.farm.camera(c.camera).emit(c.event);
      await until('the event', () => r.sink.events.length > before);
      const e = r.sink.events[before]!;
      expect(e).toMatchObject({ deviceId: c.camera, kind: c.kind, active: c.active });
      expect(e.initial).toBeUndefined();
      expect(e.deviceTime).toBe(r.clock.now());
      await parked(r.farm, c.camera);
    });
  }

  it('an unknown vendor topic arrives as a generic event with its raw topic', async () => {
    const before = r.sink.events.length;
    r.farm
      .camera('cam-dahua')
      .emit({ type: 'raw', property: false, topic: 'tns1:RuleEngine/MyRuleDetector/VehicleDetect', source: { Source: '0' }, data: { State: '1' } });
    await until('generic', () => r.sink.events.length > before);
    expect(r.sink.events[before]).toMatchObject({ kind: 'generic', active: true, attrs: { topic: 'tns1:RuleEngine/MyRuleDetector/VehicleDetect' } });
    await parked(r.farm, 'cam-dahua');
  });

  it('a malformed state is kept as a reject and the next event still arrives', async () => {
    const before = r.sink.events.length;
    const cam = r.farm.camera('cam-standard');
    cam.emit({ type: 'raw', property: true, topic: 'tns1:VideoSource/MotionAlarm', source: { Source: 'VideoSource_1' }, data: { State: 'perhaps' } });
    cam.emit({ type: 'motion', active: false });
    await until('the next event', () => r.sink.events.length > before);
    expect(r.sink.rejects).toEqual([
      expect.objectContaining({ deviceId: 'cam-standard', source: 'tns1:VideoSource/MotionAlarm', reason: expect.stringContaining('"perhaps"') }),
    ]);
    expect(r.sink.events[before]).toMatchObject({ kind: 'motion', active: false });
  });
});
