import { ALARM_CATEGORIES, type AlarmCategory } from '../../core/alarm.ts';
import { AlarmTallier, type AlarmTally, type ReportAlarm } from '../../core/alarm-figures.ts';
import { localDate } from './calendar.ts';

/** The figures managers read (上报数 / 受理 / 办结数 / 办结率, overdue, false alarms), mean times in whole seconds. */
export type Figures = Omit<AlarmTally, 'meanAcceptMs' | 'meanCloseMs'> & { meanAcceptSeconds: number | null; meanCloseSeconds: number | null };

class Acc extends AlarmTallier {
  figures(): Figures {
    const { meanAcceptMs, meanCloseMs, ...t } = this.tally();
    const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));
    return { ...t, meanAcceptSeconds: seconds(meanAcceptMs), meanCloseSeconds: seconds(meanCloseMs) };
  }
}

export interface AlarmReport {
  totals: Figures;
  byCategory: Record<AlarmCategory, Figures>;
  byGrid: { grid: string; figures: Figures }[];
  byDay: { date: string; figures: Figures; byCategory: Record<AlarmCategory, number> }[];
}

/** Cut alarms by category, grid and local day. Alarms count in the period they were opened in. */
export function alarmFigures(alarms: readonly ReportAlarm[], days: readonly string[], tz: string): AlarmReport {
  const total = new Acc();
  const cat = Object.fromEntries(ALARM_CATEGORIES.map((c) => [c, new Acc()])) as Record<AlarmCategory, Acc>;
  const grid = new Map<string, Acc>();
  const day = new Map(days.map((d) => [d, { acc: new Acc(), cats: Object.fromEntries(ALARM_CATEGORIES.map((c) => [c, 0])) as Record<AlarmCategory, number> }]));
  for (const a of alarms) {
    total.add(a);
    cat[a.category].add(a);
    const g = a.grid ?? '-';
    if (!grid.has(g)) grid.set(g, new Acc());
    grid.get(g)!.add(a);
    const dd = day.get(localDate(a.openedAt, tz));
    if (dd) {
      dd.acc.add(a);
      dd.cats[a.category]++;
    }
  }
  return {
    totals: total.figures(),
    byCategory: Object.fromEntries(ALARM_CATEGORIES.map((c) => [c, cat[c].figures()])) as Record<AlarmCategory, Figures>,
    byGrid: [...grid].sort(([a], [b]) => a.localeCompare(b)).map(([g, acc]) => ({ grid: g, figures: acc.figures() })),
    byDay: days.map((d) => ({ date: d, figures: day.get(d)!.acc.figures(), byCategory: day.get(d)!.cats })),
  };
}
