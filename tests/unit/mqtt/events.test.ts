import { describe, expect, it } from 'vitest';
import { decodeEvent, eventTypesOf, MAX_PAYLOAD_BYTES, redactedExcerpt } from '../../../device-drivers/mqtt/contract.ts';
import type { DeviceConfig } from '../../../config/schema.ts';
import { RAW_EXCERPT_MAX, type DeviceEvent } from '../../../gateway/core/events.ts';
import { camera, door, hashCredential, json, NOW, panel, siren, smokeSensor, sos, speaker, valid } from './fixtures.ts';

function decode(device: DeviceConfig, message: unknown, receivedAt = NOW) {
  const payload = Buffer.isBuffer(message) ? message : typeof message === 'string' ? Buffer.from(message) : json(message);
  return decodeEvent(device, payload, receivedAt, hashCredential);
}

/** Decodes a message that must be valid and give exactly one event. */
function one(device: DeviceConfig, message: Record<string, unknown>): DeviceEvent {
  const r = decode(device, { id: 'e-1', ...message });
  if (!r.ok) throw new Error(r.reason);
  expect(r.deviceEventId).toBe('e-1');
  expect(r.heartbeat).toBe(false);
  expect(valid(r.events)).toHaveLength(1);
  const e = r.events[0]!;
  expect(e.deviceId).toBe(device.id);
  expect(e.receivedAt).toBe(NOW);
  return e;
}

function reason(device: DeviceConfig, message: unknown): string {
  const r = decode(device, message);
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r)}`);
  return r.reason;
}

describe('alarm panel events', () => {
  it('zone alarm and restore', () => {
    const e = one(panel, { type: 'zone', zone: 4, zoneType: 'perimeter', state: 'alarm', ts: NOW + 1200 });
    expect(e).toMatchObject({ kind: 'zone_alarm', active: true, source: '4', attrs: { zone: 4, zoneType: 'perimeter' }, deviceTime: NOW + 1200 });
    expect(one(panel, { type: 'zone', zone: 4, zoneType: 'perimeter', state: 'restore' })).toMatchObject({ kind: 'zone_alarm', active: false });
    for (const zoneType of ['intrusion', 'fire', 'panic']) {
      expect(one(panel, { type: 'zone', zone: 999, zoneType, state: 'alarm' }).attrs).toEqual({ zone: 999, zoneType });
    }
  });

  it('armed, with and without a user', () => {
    expect(one(panel, { type: 'armed', mode: 'night', user: '03' })).toMatchObject({ kind: 'armed', active: true, attrs: { mode: 'night', user: '03' } });
    expect(one(panel, { type: 'armed', mode: 'away' }).attrs).toEqual({ mode: 'away' });
    expect(one(panel, { type: 'armed', mode: 'home', user: 3 }).attrs).toEqual({ mode: 'home', user: '3' });
    expect((one(panel, { type: 'armed', mode: 'home', user: 'x'.repeat(100) }).attrs as { user: string }).user).toHaveLength(64);
  });

  it('disarmed', () => {
    expect(one(panel, { type: 'disarmed', user: '管理员' })).toMatchObject({ kind: 'disarmed', active: true, attrs: { user: '管理员' } });
    expect(one(panel, { type: 'disarmed' }).attrs).toEqual({});
  });

  it('trouble begin and end', () => {
    const e = one(panel, { type: 'trouble', trouble: 'ac_loss', state: 'begin', detail: 'mains lost' });
    expect(e).toMatchObject({ kind: 'trouble', active: true, attrs: { trouble: 'ac_loss', detail: 'mains lost' } });
    expect(one(panel, { type: 'trouble', trouble: 'comm_fault', state: 'end' })).toMatchObject({ active: false, attrs: { trouble: 'comm_fault' } });
    expect((one(panel, { type: 'trouble', trouble: 'other', state: 'begin', detail: 'y'.repeat(400) }).attrs as { detail: string }).detail).toHaveLength(256);
  });

  it('tamper', () => {
    expect(one(panel, { type: 'tamper', state: 'begin' })).toMatchObject({ kind: 'tamper', active: true, attrs: {} });
    expect(one(panel, { type: 'tamper', state: 'end' })).toMatchObject({ kind: 'tamper', active: false });
  });
});

describe('access controller events', () => {
  it('door opened, closed, forced, held open (door name from the site file)', () => {
    expect(one(door, { type: 'door', state: 'opened' })).toMatchObject({
      kind: 'door_open',
      active: true,
      source: '3栋2单元门',
      attrs: { door: '3栋2单元门' },
    });
    expect(one(door, { type: 'door', state: 'closed' })).toMatchObject({ kind: 'door_open', active: false });
    expect(one(door, { type: 'door', state: 'forced' })).toMatchObject({ kind: 'door_forced', active: true, attrs: { door: '3栋2单元门' } });
    expect(one(door, { type: 'door', state: 'held_open', seconds: 75 })).toMatchObject({
      kind: 'door_held_open',
      active: true,
      attrs: { door: '3栋2单元门', seconds: 75 },
    });
    expect(one(door, { type: 'door', state: 'held_open' }).attrs).toEqual({ door: '3栋2单元门' });
  });

  it('access granted and denied, with the credential hashed', () => {
    const granted = one(door, { type: 'access', result: 'granted', method: 'card', credential: '04A1B2C3D4' });
    expect(granted).toMatchObject({ kind: 'access_granted', active: true, attrs: { method: 'card', credentialHash: hashCredential('04A1B2C3D4') } });
    const denied = one(door, { type: 'access', result: 'denied', method: 'face', credential: 'face-778', reason: 'not enrolled' });
    expect(denied).toMatchObject({ kind: 'access_denied', attrs: { method: 'face', credentialHash: hashCredential('face-778'), reason: 'not enrolled' } });
    expect(one(door, { type: 'access', result: 'granted', method: 'pin' }).attrs).toEqual({ method: 'pin' });
    expect(one(door, { type: 'access', result: 'granted', method: 'qr', credential: 12345678 }).attrs).toEqual({
      method: 'qr',
      credentialHash: hashCredential('12345678'),
    });
  });

  it('a device cannot set the credential hash itself', () => {
    const e = one(door, { type: 'access', result: 'granted', method: 'card', credentialHash: 'forged' });
    expect(e.attrs).toEqual({ method: 'card' });
  });

  it('tamper', () => {
    expect(one(door, { type: 'tamper', state: 'begin' })).toMatchObject({ kind: 'tamper', active: true });
  });
});

describe('the credential never leaks', () => {
  const CARD = '04A1B2C3D4';

  it('not in the event, nor in raw', () => {
    const r = decode(door, { id: 'd31-88121', type: 'access', result: 'granted', method: 'card', credential: CARD, note: 'kept' });
    expect(r.ok).toBe(true);
    expect(JSON.stringify(r)).not.toContain(CARD);
    if (r.ok) expect(r.events[0]!.raw).toContain('"note":"kept"');
  });

  it('not in a reason for a bad credential or any other bad field', () => {
    for (const message of [
      { id: 'x', type: 'access', result: 'granted', method: 'card', credential: { card: CARD } },
      { id: 'x', type: 'access', result: 'granted', method: 'card', credential: [CARD] },
      { id: 'x', type: 'access', result: 'maybe', method: 'card', credential: CARD },
      { id: 'x', type: 'teleport', credential: CARD },
    ]) {
      const r = decode(door, message);
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain(CARD);
    }
    expect(reason(door, { id: 'x', type: 'access', result: 'granted', method: 'card', credential: [CARD] })).toBe(
      'credential: expected a string (card number, face id or QR payload), got an array',
    );
  });

  it('not in a JSON syntax error', () => {
    const r = decode(door, `{"id": "x", "type": "access", "credential": "${CARD}" oops}`);
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(CARD);
    const r2 = decode(door, `{"id": "x", "credential": ${CARD}}`);
    expect(JSON.stringify(r2)).not.toContain(CARD);
  });

  it('redactedExcerpt, for the rejects table, blanks it in JSON and in broken JSON', () => {
    expect(redactedExcerpt(json({ id: 'x', credential: CARD, method: 'card' }))).toBe('{"id":"x","method":"card"}');
    const broken = redactedExcerpt(`{"id": "x", "credential": "${CARD}", oops`)!;
    expect(broken).not.toContain(CARD);
    expect(broken).toContain('"credential": "[redacted]"');
    expect(redactedExcerpt(`{"credential": ${CARD}`)).not.toContain(CARD);
    expect(redactedExcerpt('online')).toBe('online');
  });
});

describe('SOS button events', () => {
  it('pressed (the default) and cleared, household from the site file', () => {
    expect(one(sos, { type: 'sos' })).toMatchObject({ kind: 'sos', active: true, attrs: { household: '3栋2单元501' } });
    expect(one(sos, { type: 'sos', state: 'pressed' }).active).toBe(true);
    expect(one(sos, { type: 'sos', state: 'cleared' })).toMatchObject({ kind: 'sos', active: false });
  });

  it('the device cannot name another household', () => {
    expect(one(sos, { type: 'sos', household: '1栋101' }).attrs).toEqual({ household: '3栋2单元501' });
  });
});

describe('sensor events', () => {
  it.each(['smoke', 'water_leak', 'gas'] as const)('%s alarm and clear', (type) => {
    expect(one(smokeSensor, { type, state: 'alarm' })).toMatchObject({ kind: type, active: true, attrs: {} });
    expect(one(smokeSensor, { type, state: 'clear' })).toMatchObject({ kind: type, active: false });
  });

  it('contact open and closed', () => {
    expect(one(smokeSensor, { type: 'contact', state: 'open' })).toMatchObject({ kind: 'contact', active: true });
    expect(one(smokeSensor, { type: 'contact', state: 'closed' })).toMatchObject({ kind: 'contact', active: false });
  });

  it('pir motion and clear become occupancy', () => {
    expect(one(smokeSensor, { type: 'pir', state: 'motion' })).toMatchObject({ kind: 'occupancy', active: true });
    expect(one(smokeSensor, { type: 'pir', state: 'clear' })).toMatchObject({ kind: 'occupancy', active: false });
  });

  it('battery', () => {
    expect(one(smokeSensor, { type: 'battery', percent: 8, low: true })).toMatchObject({ kind: 'battery_low', active: true, attrs: { percent: 8 } });
    expect(one(smokeSensor, { type: 'battery', percent: 90, low: false })).toMatchObject({ kind: 'battery_low', active: false });
  });

  it('tamper', () => {
    expect(one(smokeSensor, { type: 'tamper', state: 'end' })).toMatchObject({ kind: 'tamper', active: false });
  });
});

describe('heartbeat', () => {
  it.each([panel, door, sos, smokeSensor, siren, speaker])('from $kind: nothing stored', (device) => {
    expect(decode(device, { id: 'hb-1', type: 'heartbeat' })).toEqual({ ok: true, deviceEventId: 'hb-1', heartbeat: true, events: [] });
  });

  it('sirens and loudspeakers send heartbeats only', () => {
    expect(eventTypesOf('siren')).toEqual(['heartbeat']);
    expect(reason(siren, { id: 'x', type: 'tamper', state: 'begin' })).toBe('type "tamper" is not an event of a siren (known: heartbeat)');
  });
});

describe('clock', () => {
  it('device time within 5 s of the box is trusted, beyond is not', () => {
    for (const [offset, trusted] of [
      [0, true],
      [5000, true],
      [-5000, true],
      [5001, false],
      [-3_600_000, false],
    ] as const) {
      const e = one(panel, { type: 'tamper', state: 'begin', ts: NOW + offset });
      expect(e).toMatchObject({ deviceTime: NOW + offset, clockOffsetMs: offset, clockTrusted: trusted });
    }
  });

  it('an RFC 3339 time is read, with its offset', () => {
    const e = one(panel, { type: 'tamper', state: 'begin', ts: '2026-11-21T16:00:02+08:00' });
    expect(e.deviceTime).toBe(Date.parse('2026-11-21T08:00:02Z'));
    expect(one(panel, { type: 'tamper', state: 'begin', ts: new Date(NOW - 800).toISOString() })).toMatchObject({ clockOffsetMs: -800, clockTrusted: true });
  });

  it('no time, 0 (a device without a clock) or an impossible one: deviceTime null, untrusted, the event kept', () => {
    for (const ts of [undefined, 0, -5, '2026-02-30T10:00:00Z', 'yesterday', '1795248000000', true, { s: 1 }, 1e20]) {
      const e = one(panel, { type: 'zone', zone: 4, zoneType: 'perimeter', state: 'alarm', ts });
      expect(e).toMatchObject({ deviceTime: null, clockOffsetMs: null, clockTrusted: false });
    }
  });
});

describe('raw', () => {
  it('keeps the payload, bounded', () => {
    const message = { id: 'e-1', type: 'tamper', state: 'begin' };
    expect(one(panel, message).raw).toBe(JSON.stringify(message));
    const long = one(panel, { type: 'tamper', state: 'begin', padding: 'p'.repeat(5000) });
    expect(long.raw!.length).toBe(RAW_EXCERPT_MAX);
  });
});

describe('bad input is rejected with a reason naming the field', () => {
  it.each([
    ['malformed JSON', '{"id": "x", "type": "zone",', /^not JSON: /],
    ['a bare word', 'alarm', /^not JSON: Unexpected token/],
    ['a JSON array', '[{"id": "x", "type": "zone"}]', /^expected a JSON object, got an array$/],
    ['JSON null', 'null', /^expected a JSON object, got null$/],
    ['a JSON number', '42', /^expected a JSON object, got a number$/],
    ['no id', { type: 'tamper', state: 'begin' }, /^id: missing, expected a string of 1 to 64 characters$/],
    ['an empty id', { id: '', type: 'tamper', state: 'begin' }, /^id: expected a string of 1 to 64 characters, got ""$/],
    ['a long id', { id: 'i'.repeat(65), type: 'tamper', state: 'begin' }, /^id: expected a string of 1 to 64 characters/],
    ['a numeric id', { id: 412, type: 'tamper', state: 'begin' }, /^id: expected a string of 1 to 64 characters, got 412$/],
    ['no type', { id: 'x' }, /^type: missing/],
    [
      'an unknown type',
      { id: 'x', type: 'teleport' },
      /^type "teleport" is not an event of an alarm_panel \(known: zone, armed, disarmed, trouble, tamper, heartbeat\)$/,
    ],
    ['a string zone', { id: 'x', type: 'zone', zone: 'x', zoneType: 'fire', state: 'alarm' }, /^zone: expected a number from 1 to 999, got "x"$/],
    ['zone 0', { id: 'x', type: 'zone', zone: 0, zoneType: 'fire', state: 'alarm' }, /^zone: expected a number from 1 to 999, got 0$/],
    ['zone 1000', { id: 'x', type: 'zone', zone: 1000, zoneType: 'fire', state: 'alarm' }, /^zone: expected a number from 1 to 999, got 1000$/],
    ['zone 4.5', { id: 'x', type: 'zone', zone: 4.5, zoneType: 'fire', state: 'alarm' }, /^zone: expected a number from 1 to 999, got 4.5$/],
    [
      'an unknown zone type',
      { id: 'x', type: 'zone', zone: 4, zoneType: 'smoke', state: 'alarm' },
      /^zoneType: expected one of "intrusion", "perimeter", "fire", "panic", got "smoke"$/,
    ],
    ['a missing state', { id: 'x', type: 'zone', zone: 4, zoneType: 'fire' }, /^state: missing, expected one of "alarm", "restore"$/],
    ['a bad arm mode', { id: 'x', type: 'armed', mode: 'vacation' }, /^mode: expected one of "away", "home", "night", got "vacation"$/],
    ['a user that is an object', { id: 'x', type: 'disarmed', user: { name: 'a' } }, /^user: expected a user code or name \(a string\), got \{"name":"a"\}$/],
  ])('%s', (_what, message, expected) => {
    expect(reason(panel, message)).toMatch(expected);
  });

  it('an oversized payload', () => {
    const big = Buffer.from(JSON.stringify({ id: 'x', type: 'tamper', state: 'begin', pad: 'p'.repeat(20_480) })).subarray(0, 20_480);
    expect(reason(panel, big)).toBe(`payload is 20480 bytes, more than ${MAX_PAYLOAD_BYTES}`);
    const justFits = { id: 'x', type: 'tamper', state: 'begin', pad: '' };
    justFits.pad = 'p'.repeat(MAX_PAYLOAD_BYTES - JSON.stringify(justFits).length);
    expect(decode(panel, justFits).ok).toBe(true);
  });

  it('invalid UTF-8', () => {
    expect(reason(panel, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe('payload is not valid UTF-8');
  });

  it('fields of other kinds', () => {
    expect(reason(door, { id: 'x', type: 'door', state: 'ajar' })).toBe('state: expected one of "opened", "closed", "forced", "held_open", got "ajar"');
    expect(reason(door, { id: 'x', type: 'door', state: 'held_open', seconds: -1 })).toBe('seconds: expected a number of seconds, 0 or more, got -1');
    expect(reason(door, { id: 'x', type: 'access', result: 'granted', method: 'iris' })).toBe(
      'method: expected one of "card", "face", "qr", "pin", got "iris"',
    );
    expect(reason(door, { id: 'x', type: 'zone', zone: 4 })).toBe(
      'type "zone" is not an event of an access_controller (known: door, access, tamper, heartbeat)',
    );
    expect(reason(sos, { id: 'x', type: 'sos', state: 'held' })).toBe('state: expected one of "pressed", "cleared", got "held"');
    expect(reason(smokeSensor, { id: 'x', type: 'battery', percent: 120, low: true })).toBe('percent: expected a number from 0 to 100, got 120');
    expect(reason(smokeSensor, { id: 'x', type: 'battery', percent: 20, low: 'yes' })).toBe('low: expected true or false, got "yes"');
    expect(reason(smokeSensor, { id: 'x', type: 'pir', state: 'alarm' })).toBe('state: expected one of "motion", "clear", got "alarm"');
  });

  it('devices outside the contract', () => {
    expect(reason(camera, { id: 'x', type: 'tamper', state: 'begin' })).toMatch(
      /^device "cam-1" is an onvif_camera, which does not speak the MQTT device contract$/,
    );
  });
});
