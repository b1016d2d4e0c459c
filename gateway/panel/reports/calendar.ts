/**
 * Days, weeks and months in the site's time zone (reports cut at local
 * midnight, not UTC). Dates are 'YYYY-MM-DD' strings.
 */
export type Period = 'day' | 'week' | 'month';

const fmtCache = new Map<string, Intl.DateTimeFormat>();
function fmt(tz: string): Intl.DateTimeFormat {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    fmtCache.set(tz, f);
  }
  return f;
}

function parts(ts: number, tz: string): { y: number; m: number; d: number; h: number; min: number; s: number } {
  const p = Object.fromEntries(
    fmt(tz)
      .formatToParts(new Date(ts))
      .map((x) => [x.type, x.value]),
  );
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour), min: Number(p.minute), s: Number(p.second) };
}

/** The local calendar date of an instant. */
export function localDate(ts: number, tz: string): string {
  const p = parts(ts, tz);
  return `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

/** Offset of the zone from UTC at an instant, ms. */
function offsetAt(ts: number, tz: string): number {
  const p = parts(ts, tz);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s) - Math.floor(ts / 1000) * 1000;
}

/** The instant of local midnight starting a date. */
export function startOfDate(date: string, tz: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - offsetAt(guess, tz);
  t = guess - offsetAt(t, tz); // once more across a DST change
  return t;
}

export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

export function isDate(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;
}

/** The period holding a date: the day, its Monday-to-Sunday week, or its month. */
export function periodRange(period: Period, date: string, tz: string): { from: number; to: number; first: string; days: string[] } {
  let first = date;
  let count = 1;
  if (period === 'week') {
    const dow = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
    first = addDays(date, -dow);
    count = 7;
  } else if (period === 'month') {
    first = `${date.slice(0, 8)}01`;
    const [y, m] = first.split('-').map(Number) as [number, number];
    count = new Date(Date.UTC(y, m, 0)).getUTCDate();
  }
  const days = Array.from({ length: count }, (_, i) => addDays(first, i));
  return { from: startOfDate(first, tz), to: startOfDate(addDays(first, count), tz), first, days };
}
