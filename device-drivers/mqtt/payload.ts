/**
 * Payload helpers shared by the contract decoder and the mapping profiles:
 * size and UTF-8 checks, JSON objects, device time, installer-readable values.
 */
import { TextDecoder } from 'node:util';
import { rawExcerpt } from '../../gateway/core/events.ts';

/** Largest payload the contract accepts (docs/mqtt-contract.md: "at most 16 KiB"). */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

/** A device clock within this of the box's is trusted. */
export const CLOCK_TRUST_MS = 5000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The payload as text: bounded, valid UTF-8. */
export function payloadText(payload: Buffer): Parsed<string> {
  if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload is ${payload.length} bytes, more than ${MAX_PAYLOAD_BYTES}` };
  try {
    return { ok: true, value: utf8.decode(payload) };
  } catch {
    return { ok: false, reason: 'payload is not valid UTF-8' };
  }
}

/** The payload as a JSON object (not an array, not null, not a bare value). */
export function jsonObject(payload: Buffer): Parsed<Record<string, unknown>> {
  const text = payloadText(payload);
  if (!text.ok) return text;
  let value: unknown;
  try {
    value = JSON.parse(text.value);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${jsonErrorMessage(e, text.value)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `expected a JSON object, got ${kindOf(value)}` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * V8 quotes part of the input in some JSON errors ("Unexpected token 'x', "…" is not
 * valid JSON"). That snippet may hold a credential, so it is left out when the text
 * mentions one.
 */
function jsonErrorMessage(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  if (!/credential/i.test(text)) return message;
  return message.replace(/, ".*" is not valid JSON$/s, ' (input not shown: it may hold a credential)');
}

/** "a number", "an array", "null"... for reasons. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'undefined') return 'nothing';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v;
}

/** A value as an installer reads it in a reason, bounded. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `text` cut to `max` characters (an ellipsis marks the cut). */
export function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** Date's own range: ±8.64e15 ms. */
const MAX_EPOCH_MS = 8.64e15;

/**
 * Device time in epoch ms from a `ts` field, or null when it is missing or
 * impossible: not a number or an RFC 3339 string, 0 or negative (devices with no
 * clock send 0), not a real calendar date. Never a reason to reject the event:
 * an alarm is not lost because the device clock is broken.
 */
export function deviceTimeOf(ts: unknown): number | null {
  if (typeof ts === 'number') return Number.isFinite(ts) && ts > 0 && ts < MAX_EPOCH_MS ? ts : null;
  if (typeof ts !== 'string') return null;
  const m = RFC3339.exec(ts.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return null;
  const ms = Date.parse(ts.trim().replace(' ', 'T'));
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** The clock fields of an event from its device time and the box's receive time. */
export function clockFields(deviceTime: number | null, receivedAt: number): { deviceTime: number | null; clockOffsetMs: number | null; clockTrusted: boolean } {
  if (deviceTime === null) return { deviceTime: null, clockOffsetMs: null, clockTrusted: false };
  const clockOffsetMs = deviceTime - receivedAt;
  return { deviceTime, clockOffsetMs, clockTrusted: Math.abs(clockOffsetMs) <= CLOCK_TRUST_MS };
}

const CREDENTIAL_IN_TEXT = /("credential"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\s]*)/gi;

/**
 * A raw excerpt with no credential in it: a JSON object is re-serialized without
 * its `credential`; any other text has `"credential": <value>` blanked. Use it for
 * events and for the rejects table alike.
 */
export function redactedExcerpt(payload: Buffer | string, parsed?: Record<string, unknown>): string | undefined {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  if (parsed !== undefined) {
    if (!('credential' in parsed)) return rawExcerpt(text);
    const { credential: _credential, ...rest } = parsed;
    return rawExcerpt(JSON.stringify(rest));
  }
  if (!/credential/i.test(text)) return rawExcerpt(text);
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return redactedExcerpt(text, value as Record<string, unknown>);
  } catch {
    // not JSON: blank it textually below
  }
  return rawExcerpt(text.replace(CREDENTIAL_IN_TEXT, '$1"[redacted]"'));
}
