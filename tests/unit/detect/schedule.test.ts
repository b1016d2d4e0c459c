import { describe, expect, it } from 'vitest';
import { Schedules } from '../../../gateway/detect/schedule.ts';

const at = (iso: string) => Date.parse(iso);

describe('schedules in the site time zone', () => {
  const s = new Schedules(
    [
      { id: 'night', name: '夜间', from: '22:00', to: '06:00' },
      { id: 'office', name: '办公时间', from: '08:30', to: '17:30', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
      { id: 'weekend-night', name: '周末夜间', from: '23:00', to: '07:00', days: ['sat'] },
    ],
    'Asia/Shanghai',
  );

  it('an overnight window: 22:00 to 06:00 local (UTC+8), edges included at the start, excluded at the end', () => {
    expect(s.isActive('night', at('2026-11-21T13:59:59Z'))).toBe(false); // 21:59:59
    expect(s.isActive('night', at('2026-11-21T14:00:00Z'))).toBe(true); // 22:00
    expect(s.isActive('night', at('2026-11-21T18:00:00Z'))).toBe(true); // 02:00
    expect(s.isActive('night', at('2026-11-21T21:59:00Z'))).toBe(true); // 05:59
    expect(s.isActive('night', at('2026-11-21T22:00:00Z'))).toBe(false); // 06:00
  });

  it('weekdays: a day window only on its days; an overnight window belongs to the day it starts', () => {
    expect(s.isActive('office', at('2026-11-20T01:00:00Z'))).toBe(true); // Fri 09:00
    expect(s.isActive('office', at('2026-11-21T01:00:00Z'))).toBe(false); // Sat 09:00
    expect(s.isActive('weekend-night', at('2026-11-21T15:30:00Z'))).toBe(true); // Sat 23:30
    expect(s.isActive('weekend-night', at('2026-11-21T20:00:00Z'))).toBe(true); // Sun 04:00, Saturday's night
    expect(s.isActive('weekend-night', at('2026-11-22T20:00:00Z'))).toBe(false); // Mon 04:00
    expect(s.isActive('unknown', at('2026-11-21T15:30:00Z'))).toBe(false);
  });

  it('follows a zone with daylight saving time across its change', () => {
    const berlin = new Schedules([{ id: 'night', name: 'night', from: '22:00', to: '06:00' }], 'Europe/Berlin');
    // 2026-03-29: clocks go from 02:00 CET (UTC+1) to 03:00 CEST (UTC+2)
    expect(berlin.isActive('night', at('2026-03-29T03:30:00Z'))).toBe(true); // 05:30 CEST
    expect(berlin.isActive('night', at('2026-03-29T04:00:00Z'))).toBe(false); // 06:00 CEST
    expect(berlin.isActive('night', at('2026-03-28T20:59:00Z'))).toBe(false); // 21:59 CET
    expect(berlin.isActive('night', at('2026-03-28T21:00:00Z'))).toBe(true); // 22:00 CET
  });
});
