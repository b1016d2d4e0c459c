import type { ScheduleConfig } from '../../config/schema/rules.ts';
import { WEEKDAYS } from '../../config/schema/rules.ts';

const BUCKET_MS = 15 * 60_000; // every zone's offset changes only on a quarter hour
const DAY_MS = 86_400_000;

interface Window {
  from: number; // minute of day
  to: number;
  days: readonly boolean[]; // by weekday, 0 = Monday
}

const minuteOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Weekly arming windows (e.g. 22:00–06:00) in the site's time zone. Local
 * time comes from Intl once per quarter hour of event time (the zone's offset
 * cannot change inside one), so the hot path costs a division and a compare.
 */
export class Schedules {
  private readonly windows = new Map<string, Window>();
  private readonly fmt: Intl.DateTimeFormat;
  private cachedBucket = Number.NaN;
  private cachedOffset = 0;

  constructor(list: readonly ScheduleConfig[], timeZone: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    for (const s of list) {
      const days = WEEKDAYS.map((d) => (s.days ? s.days.includes(d) : true));
      this.windows.set(s.id, { from: minuteOf(s.from), to: minuteOf(s.to), days });
    }
  }

  has(id: string): boolean {
    return this.windows.has(id);
  }

  /** Local time offset (ms) of the zone at `at`. */
  offsetAt(at: number): number {
    const bucket = Math.floor(at / BUCKET_MS);
    if (bucket !== this.cachedBucket) {
      const p: Record<string, number> = {};
      for (const part of this.fmt.formatToParts(new Date(bucket * BUCKET_MS))) if (part.type !== 'literal') p[part.type] = Number(part.value);
      const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
      this.cachedOffset = local - bucket * BUCKET_MS;
      this.cachedBucket = bucket;
    }
    return this.cachedOffset;
  }

  /** Minute of the local day (0..1439) and weekday (0 = Monday). */
  local(at: number): { minute: number; weekday: number } {
    const local = at + this.offsetAt(at);
    const day = Math.floor(local / DAY_MS);
    return { minute: Math.floor((local - day * DAY_MS) / 60_000), weekday: (day + 3) % 7 }; // 1970-01-01 was a Thursday
  }

  /** Whether the schedule is armed at `at` (an unknown id never is). */
  isActive(id: string, at: number): boolean {
    const w = this.windows.get(id);
    if (!w) return false;
    const { minute, weekday } = this.local(at);
    if (w.from < w.to) return minute >= w.from && minute < w.to && w.days[weekday]!;
    // overnight: the evening part belongs to today, the morning part to yesterday's window
    if (minute >= w.from) return w.days[weekday]!;
    return minute < w.to && w.days[(weekday + 6) % 7]!;
  }
}
