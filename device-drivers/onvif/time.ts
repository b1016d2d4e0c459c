import { child, text, type XmlNode } from './xml.ts';

/**
 * Time as cameras write it: xs:duration for timeouts and lifetimes,
 * xs:dateTime for event and termination times, and the structured
 * SystemDateAndTime of the device service.
 */

/** xs:duration (PT60S, PT1M30S, P1D, PT0.5S) → milliseconds; null if not a duration. */
export function parseDuration(s: string): number | null {
  const m =
    /^\s*(-)?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*$/.exec(s);
  if (!m || s.trim() === 'P' || /T$/.test(s.trim())) return null;
  const [, neg, y, mo, d, h, mi, sec] = m;
  const n = (v: string | undefined) => (v ? Number(v) : 0);
  const ms = (n(y) * 365 * 86400 + n(mo) * 30 * 86400 + n(d) * 86400 + n(h) * 3600 + n(mi) * 60 + n(sec)) * 1000;
  return neg ? -ms : Math.round(ms);
}

/** Milliseconds → xs:duration in whole seconds (PT600S): every camera reads this form. */
export function toDuration(ms: number): string {
  return `PT${Math.max(0, Math.round(ms / 1000))}S`;
}

/**
 * xs:dateTime → epoch ms. Returns null for what cannot be a real event time:
 * Hikvision's 0000-00-00T00:00:00Z, the 1970 epoch some devices send for a
 * property that never fired, and anything unparsable. A time without a zone
 * is read as UTC (ONVIF requires UTC; cameras that omit the Z still mean it).
 */
export function parseDateTime(s: string | undefined): number | null {
  if (!s) return null;
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?\s*$/.exec(s);
  if (!m) return null;
  const [, Y, Mo, D, h, mi, sec, frac, zone] = m;
  const year = Number(Y);
  if (year < 1971 || Number(Mo) < 1 || Number(Mo) > 12 || Number(D) < 1 || Number(D) > 31) return null;
  let ms = Date.UTC(year, Number(Mo) - 1, Number(D), Number(h), Number(mi), Number(sec), frac ? Math.round(Number(frac) * 1000) : 0);
  if (zone && zone !== 'Z') {
    const z = /([+-])(\d{2}):?(\d{2})/.exec(zone)!;
    const off = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    ms -= z[1] === '+' ? off : -off;
  }
  return Number.isFinite(ms) ? ms : null;
}

export interface CameraDateTime {
  /** Camera UTC as epoch ms. */
  utcMs: number;
  /** NTP or Manual, as the camera reports it. */
  type: string | null;
  /** Read from LocalDateTime and the TZ string because the camera gave no UTCDateTime. */
  fromLocal: boolean;
}

function structured(dt: XmlNode | undefined): number | null {
  if (!dt) return null;
  const n = (...p: string[]) => Number(text(dt, ...p));
  const Y = n('Date', 'Year');
  const Mo = n('Date', 'Month');
  const D = n('Date', 'Day');
  const h = n('Time', 'Hour');
  const mi = n('Time', 'Minute');
  const s = n('Time', 'Second');
  if (![Y, Mo, D, h, mi, s].every(Number.isFinite) || Y < 1971) return null;
  return Date.UTC(Y, Mo - 1, D, h, mi, s);
}

/** POSIX TZ "CST-8" → minutes east of UTC (+480); null when unreadable. */
export function posixTzOffsetMinutes(tz: string | undefined): number | null {
  const m = /^[A-Za-z<>+\-0-9]*?([A-Za-z]{3,}|<[^>]+>)([+-]?)(\d{1,2})(?::(\d{2}))?/.exec(tz ?? '');
  if (!m) return null;
  const minutes = Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[2] === '-' ? minutes : -minutes; // POSIX: the sign is west-positive
}

/** A GetSystemDateAndTimeResponse body → camera time; null when the camera gave no usable date. */
export function readSystemDateAndTime(response: XmlNode | undefined): CameraDateTime | null {
  const sdt = child(response, 'SystemDateAndTime');
  if (!sdt) return null;
  const type = text(sdt, 'DateTimeType') ?? null;
  const utc = structured(child(sdt, 'UTCDateTime'));
  if (utc !== null) return { utcMs: utc, type, fromLocal: false };
  const local = structured(child(sdt, 'LocalDateTime'));
  const off = posixTzOffsetMinutes(text(sdt, 'TimeZone', 'TZ'));
  if (local !== null && off !== null) return { utcMs: local - off * 60_000, type, fromLocal: true };
  return null;
}
