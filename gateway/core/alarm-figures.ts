import type { AlarmCategory, AlarmLevel, AlarmStatus } from './alarm.ts';

/** An alarm as the figures see it: opened when, first human response when, closed when, and where it stands now. */
export interface ReportAlarm {
  id: string;
  level: AlarmLevel;
  category: AlarmCategory;
  grid: string | null;
  status: AlarmStatus;
  openedAt: number;
  overdue: boolean;
  escalated: boolean;
  /** The first 受理 (or a direct 处置/办结/误报). */
  acceptedAt: number | null;
  /** The first 办结 or 误报. */
  closedAt: number | null;
}

/**
 * 上报数 / 受理 / 办结数 / 办结率 and mean times over a set of alarms, unrounded: the one definition the panel's
 * reports and the county's /stats both use, so the two never disagree about the same alarms. An alarm counts as
 * accepted from its first human response, and as closed while it stands resolved or marked a false alarm (a
 * reopened alarm is not closed); its time to close is to its first closing.
 */
export interface AlarmTally {
  reported: number;
  accepted: number;
  closed: number;
  resolved: number;
  falseAlarms: number;
  overdue: number;
  escalated: number;
  /** closed / reported (办结率), null with nothing reported. */
  closureRate: number | null;
  meanAcceptMs: number | null;
  meanCloseMs: number | null;
}

export class AlarmTallier {
  private t = { reported: 0, accepted: 0, closed: 0, resolved: 0, falseAlarms: 0, overdue: 0, escalated: 0 };
  private acceptSum = 0;
  private closeSum = 0;
  private closeTimed = 0;

  add(a: ReportAlarm): void {
    const t = this.t;
    t.reported++;
    if (a.acceptedAt !== null) {
      t.accepted++;
      this.acceptSum += a.acceptedAt - a.openedAt;
    }
    if (a.status === 'resolved' || a.status === 'false_alarm') {
      t.closed++;
      if (a.status === 'resolved') t.resolved++;
      else t.falseAlarms++;
      if (a.closedAt !== null) {
        this.closeSum += a.closedAt - a.openedAt;
        this.closeTimed++;
      }
    }
    if (a.overdue) t.overdue++;
    if (a.escalated) t.escalated++;
  }

  tally(): AlarmTally {
    const t = this.t;
    return {
      ...t,
      closureRate: t.reported ? t.closed / t.reported : null,
      meanAcceptMs: t.accepted ? this.acceptSum / t.accepted : null,
      meanCloseMs: this.closeTimed ? this.closeSum / this.closeTimed : null,
    };
  }
}
