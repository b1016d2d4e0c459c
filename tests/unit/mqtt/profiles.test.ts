import { beforeEach, describe, expect, it } from 'vitest';
import { ProfileMapper, type MapResult } from '../../../device-drivers/mqtt/profiles/engine.ts';
import type { DeviceEvent } from '../../../gateway/core/events.ts';
import { bridges, json, mappedDevices, NOW, valid } from './fixtures.ts';

let mapper: ProfileMapper;
beforeEach(() => {
  mapper = new ProfileMapper(bridges, mappedDevices);
});

function events(bridge: string, topic: string, payload: Buffer | string | object): DeviceEvent[] {
  const r = mapper.map(bridge, topic, typeof payload === 'string' || Buffer.isBuffer(payload) ? Buffer.from(payload) : json(payload), NOW);
  if (!r.ok) throw new Error(r.reason);
  return valid(r.events);
}

const summary = (es: DeviceEvent[]) => es.map((e) => `${e.kind}:${e.active}${e.initial ? ':initial' : ''}`);

describe('zigbee2mqtt', () => {
  const z = (name: string, state: object) => events('z2m', `zigbee2mqtt/${name}`, state);

  it('the first message is a snapshot: only active fields, marked initial', () => {
    const first = z('hall_door', { contact: false, battery: 90, battery_low: false, tamper: false, linkquality: 120 });
    expect(summary(first)).toEqual(['contact:true:initial']);
    expect(first[0]).toMatchObject({ deviceId: 'z-door', deviceTime: null, clockOffsetMs: null, clockTrusted: false, receivedAt: NOW });
    expect(z('garage/pir', { occupancy: false, tamper: false })).toEqual([]);
  });

  it('only changes become events, whole-state republishes do not', () => {
    z('hall_door', { contact: true, battery: 90, tamper: false });
    expect(z('hall_door', { contact: true, battery: 89, tamper: false, linkquality: 100 })).toEqual([]);
    expect(summary(z('hall_door', { contact: false, battery: 89, tamper: false }))).toEqual(['contact:true']);
    expect(z('hall_door', { contact: false, battery: 89, tamper: false })).toEqual([]);
    expect(summary(z('hall_door', { contact: true, battery: 89, tamper: true }))).toEqual(['contact:false', 'tamper:true']);
    expect(summary(z('hall_door', { contact: true, battery: 5, battery_low: true, tamper: true }))).toEqual(['battery_low:true']);
  });

  it('each field of the table', () => {
    z('garage/pir', {});
    const fields: [string, unknown, unknown, string][] = [
      ['occupancy', true, false, 'occupancy'],
      ['smoke', true, false, 'smoke'],
      ['water_leak', true, false, 'water_leak'],
      ['tamper', true, false, 'tamper'],
      ['battery_low', true, false, 'battery_low'],
      ['contact', false, true, 'contact'],
    ];
    for (const [field, on, off, kind] of fields) {
      expect(summary(z('garage/pir', { [field]: on }))).toEqual([`${kind}:true`]);
      expect(summary(z('garage/pir', { [field]: off }))).toEqual([`${kind}:false`]);
    }
  });

  it('battery_low carries the battery percent when there is one', () => {
    z('hall_door', { battery_low: false });
    expect(z('hall_door', { battery_low: true, battery: 7 })[0]!.attrs).toEqual({ percent: 7 });
    expect(z('hall_door', { battery_low: false, battery: 140 })[0]!.attrs).toEqual({});
  });

  it('SOS actions are presses: each one is an event', () => {
    z('sos_button_501', { battery: 100 });
    for (const action of ['emergency', 'panic', 'sos', 'sos']) {
      expect(z('sos_button_501', { action, battery: 100 }).map((e) => [e.kind, e.active, e.deviceId])).toEqual([['sos', true, 'z-sos']]);
    }
    expect(z('sos_button_501', { action: 'single', battery: 100 })).toEqual([]);
    expect(z('sos_button_501', { action: '', battery: 100 })).toEqual([]);
  });

  it('forget: the next message is a snapshot again', () => {
    z('hall_door', { contact: false });
    mapper.forget();
    expect(summary(z('hall_door', { contact: false }))).toEqual(['contact:true:initial']);
    mapper.forget('z-door');
    expect(z('hall_door', { contact: true })).toEqual([]);
  });

  it('values of another type change nothing', () => {
    z('hall_door', { contact: false });
    expect(z('hall_door', { contact: 'closed' })).toEqual([]);
    expect(z('hall_door', { contact: null })).toEqual([]);
    expect(summary(z('hall_door', { contact: true }))).toEqual(['contact:false']);
  });

  it('bridge topics and device sub-topics are ignored, not errors', () => {
    for (const topic of [
      'zigbee2mqtt/bridge/state',
      'zigbee2mqtt/bridge/devices',
      'zigbee2mqtt/bridge',
      'zigbee2mqtt/hall_door/set',
      'zigbee2mqtt/hall_door/availability',
    ]) {
      const r = mapper.map('z2m', topic, Buffer.from('{"state":"online"}'), NOW);
      expect(r).toMatchObject({ ok: true, deviceId: null, events: [] });
      expect(mapper.matchTopic('z2m', topic)).toBeNull();
    }
  });

  it('a disabled device is ignored', () => {
    expect(mapper.map('z2m', 'zigbee2mqtt/spare', json({ contact: false }), NOW)).toMatchObject({
      ok: true,
      deviceId: null,
      ignored: expect.stringContaining('disabled'),
    });
  });

  it('an unknown friendly name is an error naming it', () => {
    const r: MapResult = mapper.map('z2m', 'zigbee2mqtt/kitchen_window', json({ contact: false }), NOW);
    expect(r).toEqual({ ok: false, reason: 'no mqtt_mapped device of bridge "z2m" has sourceName "kitchen_window" (topic "zigbee2mqtt/kitchen_window")' });
    expect(mapper.matchTopic('z2m', 'zigbee2mqtt/kitchen_window')).toBeNull();
  });

  it('matchTopic finds the device, friendly names with slashes included', () => {
    expect(mapper.matchTopic('z2m', 'zigbee2mqtt/hall_door')?.id).toBe('z-door');
    expect(mapper.matchTopic('z2m', 'zigbee2mqtt/garage/pir')?.id).toBe('z-pir');
    expect(mapper.matchTopic('z2m', 'other/hall_door')).toBeNull();
    expect(mapper.matchTopic('z2m', 'zigbee2mqttx/hall_door')).toBeNull();
    expect(mapper.matchTopic('nope', 'zigbee2mqtt/hall_door')).toBeNull();
  });

  it('bad payloads and topics outside the base are errors', () => {
    expect(mapper.map('z2m', 'zigbee2mqtt/hall_door', Buffer.from('open'), NOW)).toMatchObject({ ok: false, reason: expect.stringMatching(/^not JSON: /) });
    expect(mapper.map('z2m', 'zigbee2mqtt/hall_door', json([1]), NOW)).toEqual({ ok: false, reason: 'expected a JSON object, got an array' });
    expect(mapper.map('z2m', 'other/hall_door', json({}), NOW)).toEqual({
      ok: false,
      reason: 'topic "other/hall_door" is outside the base topic "zigbee2mqtt" of bridge "z2m"',
    });
    expect(mapper.map('nope', 'zigbee2mqtt/hall_door', json({}), NOW)).toEqual({ ok: false, reason: 'no bridge "nope" in mqttBridges' });
  });
});

describe('Home Assistant-style alarm panel', () => {
  const ha = (state: string) => events('ha', 'home/alarm/house/state', state);

  it('the retained state at start is a snapshot', () => {
    const [e] = ha('armed_away');
    expect(e).toMatchObject({
      kind: 'armed',
      active: true,
      initial: true,
      attrs: { mode: 'away' },
      deviceId: 'ha-panel',
      deviceTime: null,
      clockTrusted: false,
    });
  });

  it('armed_* → armed (mode), disarmed → disarmed', () => {
    ha('disarmed');
    expect(ha('armed_home').map((e) => [e.kind, e.attrs])).toEqual([['armed', { mode: 'home' }]]);
    expect(ha('armed_night').map((e) => [e.kind, e.attrs])).toEqual([['armed', { mode: 'night' }]]);
    expect(ha('armed_night')).toEqual([]);
    expect(ha('disarmed').map((e) => [e.kind, e.active, e.attrs])).toEqual([['disarmed', true, {}]]);
    expect(ha('armed_away').map((e) => [e.kind, e.attrs])).toEqual([['armed', { mode: 'away' }]]);
  });

  it('triggered → zone_alarm on zone 1, intrusion, raw state kept; restored when it ends', () => {
    ha('armed_away');
    expect(ha('pending')).toEqual([]);
    const [alarm] = ha('triggered');
    expect(alarm).toMatchObject({ kind: 'zone_alarm', active: true, source: '1', attrs: { zone: 1, zoneType: 'intrusion' }, raw: 'triggered' });
    expect(ha('triggered')).toEqual([]);
    // back to armed after the trigger time: the alarm ends, no second "armed"
    expect(summary(ha('armed_away'))).toEqual(['zone_alarm:false']);
    ha('triggered');
    expect(summary(ha('disarmed'))).toEqual(['disarmed:true', 'zone_alarm:false']);
  });

  it('pending and arming change nothing', () => {
    ha('disarmed');
    expect(ha('arming')).toEqual([]);
    expect(summary(ha('armed_home'))).toEqual(['armed:true']);
    expect(ha('pending')).toEqual([]);
    expect(ha('armed_home')).toEqual([]);
    mapper.forget();
    expect(ha('pending')).toEqual([]);
  });

  it('an unknown state is an error naming it', () => {
    expect(mapper.map('ha', 'home/alarm/house/state', Buffer.from('armed_vacation'), NOW)).toEqual({
      ok: false,
      reason: 'state: "armed_vacation" is not a Home Assistant alarm state (known: disarmed, armed_home, armed_away, armed_night, triggered, pending, arming)',
    });
  });

  it('topics: <base>/<name>/state only; an unknown name is an error naming it', () => {
    expect(mapper.matchTopic('ha', 'home/alarm/house/state')?.id).toBe('ha-panel');
    expect(mapper.map('ha', 'home/alarm/house/set', Buffer.from('ARM_AWAY'), NOW)).toMatchObject({ ok: true, deviceId: null });
    expect(mapper.map('ha', 'home/alarm/garage/state', Buffer.from('disarmed'), NOW)).toEqual({
      ok: false,
      reason: 'no mqtt_mapped device of bridge "ha" has sourceName "garage" (topic "home/alarm/garage/state")',
    });
  });
});
