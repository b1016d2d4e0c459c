import { describe, expect, it } from 'vitest';
import { decodeAck, decodeState, decodeStatus, encodeCommand, type CommandToSend } from '../../../device-drivers/mqtt/contract.ts';
import type { DeviceConfig } from '../../../config/schema.ts';
import { camera, door, json, NOW, panel, siren, smokeSensor, sos, speaker } from './fixtures.ts';

const base = { id: '0196f0c2-7a3b-7c00-8000-000000000001', createdAt: NOW, expiresAt: NOW + 30_000 };

function sent(device: DeviceConfig, cmd: Pick<CommandToSend, 'action' | 'params'>): unknown {
  const r = encodeCommand(device, { ...base, ...cmd });
  if (!r.ok) throw new Error(r.reason);
  return JSON.parse(r.payload.toString('utf8'));
}

function refused(device: DeviceConfig, cmd: Pick<CommandToSend, 'action' | 'params'>): string {
  const r = encodeCommand(device, { ...base, ...cmd });
  if (r.ok) throw new Error(`expected a refusal, got ${r.payload.toString()}`);
  return r.reason;
}

describe('commands', () => {
  it('carry id, action, params, issuedAt and expiresAt', () => {
    expect(sent(door, { action: 'unlock', params: { seconds: 8 } })).toEqual({
      id: base.id,
      action: 'unlock',
      params: { seconds: 8 },
      issuedAt: NOW,
      expiresAt: NOW + 30_000,
    });
  });

  it('valid ones, defaults filled in', () => {
    expect(sent(panel, { action: 'arm', params: { mode: 'night' } })).toMatchObject({ params: { mode: 'night' } });
    expect(sent(panel, { action: 'disarm', params: {} })).toMatchObject({ params: {} });
    expect(sent(door, { action: 'unlock', params: {} })).toMatchObject({ params: { seconds: 5 } });
    expect(sent(door, { action: 'unlock', params: { seconds: 60 } })).toMatchObject({ params: { seconds: 60 } });
    expect(sent(siren, { action: 'siren', params: { on: true, seconds: 120 } })).toMatchObject({ params: { on: true, seconds: 120 } });
    expect(sent(siren, { action: 'siren', params: { on: true } })).toMatchObject({ params: { on: true, seconds: 120 } });
    expect(sent(siren, { action: 'siren', params: { on: false } })).toMatchObject({ params: { on: false } });
    expect(sent(speaker, { action: 'broadcast', params: { clip: 'no-climbing', seconds: 30 } })).toMatchObject({
      params: { clip: 'no-climbing', seconds: 30 },
    });
    expect(sent(speaker, { action: 'broadcast', params: { stop: true } })).toMatchObject({ params: { stop: true } });
  });

  it('an action that does not fit the device kind', () => {
    expect(refused(door, { action: 'arm', params: { mode: 'away' } })).toBe('action "arm" is not a command of an access_controller (known: unlock)');
    expect(refused(panel, { action: 'unlock', params: {} })).toBe('action "unlock" is not a command of an alarm_panel (known: arm, disarm)');
    expect(refused(smokeSensor, { action: 'siren', params: { on: true } })).toBe('action "siren" is not a command of a sensor (it takes no commands)');
    expect(refused(sos, { action: 'broadcast', params: { stop: true } })).toMatch(/not a command of a sos_button/);
    expect(refused(camera, { action: 'ptz_preset', params: {} })).toMatch(/not a command of an onvif_camera/);
  });

  it('bad params, naming the parameter', () => {
    expect(refused(door, { action: 'unlock', params: { seconds: 0 } })).toBe('params.seconds: expected whole seconds from 1 to 60, got 0');
    expect(refused(door, { action: 'unlock', params: { seconds: 61 } })).toBe('params.seconds: expected whole seconds from 1 to 60, got 61');
    expect(refused(door, { action: 'unlock', params: { seconds: '5' } })).toBe('params.seconds: expected whole seconds from 1 to 60, got "5"');
    expect(refused(door, { action: 'unlock', params: { seconds: 5, door: 'all' } })).toBe('params.door: not a parameter of unlock (known: seconds)');
    expect(refused(panel, { action: 'arm', params: {} })).toBe('params.mode: missing, expected one of "away", "home", "night"');
    expect(refused(panel, { action: 'arm', params: { mode: 'vacation' } })).toBe('params.mode: expected one of "away", "home", "night", got "vacation"');
    expect(refused(panel, { action: 'disarm', params: { force: true } })).toBe('params.force: not a parameter of disarm (known: none)');
    expect(refused(siren, { action: 'siren', params: { on: true, seconds: 121 } })).toBe(
      "params.seconds: expected whole seconds from 1 to 120 (the siren's maxDurationSeconds), got 121",
    );
    expect(refused(siren, { action: 'siren', params: { seconds: 10 } })).toBe('params.on: missing, expected true or false');
    expect(refused(speaker, { action: 'broadcast', params: {} })).toBe('params.clip: missing, expected a clip id (or stop: true)');
    expect(refused(speaker, { action: 'broadcast', params: { clip: 'leave-now', stop: true } })).toBe('params: give either clip or stop: true, not both');
    expect(refused(speaker, { action: 'broadcast', params: { stop: false } })).toBe('params.stop: expected true, got false');
  });

  it('an unknown clip', () => {
    expect(refused(speaker, { action: 'broadcast', params: { clip: 'dance-music' } })).toBe(
      'params.clip: "dance-music" is not a clip of loudspeaker "speaker-1" (known: no-climbing, leave-now)',
    );
  });

  it('a bad command id', () => {
    expect(encodeCommand(door, { ...base, id: '', action: 'unlock', params: {} })).toEqual({
      ok: false,
      reason: 'id: expected a string of 1 to 64 characters, got ""',
    });
  });
});

describe('acks', () => {
  it.each(['ok', 'failed', 'rejected', 'expired'] as const)('%s', (result) => {
    expect(decodeAck(json({ id: 'c-1', result }))).toEqual({ ok: true, id: 'c-1', result });
  });

  it('with a detail, unknown fields ignored', () => {
    expect(decodeAck(json({ id: 'c-1', result: 'failed', detail: 'lock jammed', extra: 1 }))).toEqual({
      ok: true,
      id: 'c-1',
      result: 'failed',
      detail: 'lock jammed',
    });
  });

  it('bad ones, naming the field', () => {
    expect(decodeAck(json({ id: 'c-1', result: 'done' }))).toEqual({
      ok: false,
      reason: 'result: expected one of "ok", "failed", "rejected", "expired", got "done"',
    });
    expect(decodeAck(json({ result: 'ok' }))).toEqual({ ok: false, reason: 'id: missing, expected the id of the command (a string of 1 to 64 characters)' });
    expect(decodeAck(json({ id: 'c-1', result: 'failed', detail: 42 }))).toEqual({ ok: false, reason: 'detail: expected a string, got 42' });
    expect(decodeAck(Buffer.from('ok'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^not JSON: /) });
    expect(decodeAck(json(['c-1', 'ok']))).toEqual({ ok: false, reason: 'expected a JSON object, got an array' });
  });
});

describe('status', () => {
  it('online and offline, anything else null', () => {
    expect(decodeStatus(Buffer.from('online'))).toBe('online');
    expect(decodeStatus(Buffer.from('offline\n'))).toBe('offline');
    expect(decodeStatus(Buffer.from('Online'))).toBeNull();
    expect(decodeStatus(Buffer.from('"online"'))).toBeNull();
    expect(decodeStatus(Buffer.alloc(0))).toBeNull();
  });
});

describe('state', () => {
  it('any JSON object, kept whole', () => {
    expect(decodeState(json({ armed: 'away', zonesOpen: [4] }))).toEqual({ ok: true, state: { armed: 'away', zonesOpen: [4] } });
    expect(decodeState(json({ playing: null }))).toEqual({ ok: true, state: { playing: null } });
  });

  it('not an object, or too big', () => {
    expect(decodeState(json([1]))).toEqual({ ok: false, reason: 'expected a JSON object, got an array' });
    expect(decodeState(Buffer.from('{'))).toMatchObject({ ok: false });
    expect(decodeState(json({ pad: 'p'.repeat(17_000) }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^payload is \d+ bytes, more than 16384$/),
    });
  });
});
