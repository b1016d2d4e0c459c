import type { PointType } from '../../config/schema.ts';

/**
 * Alarm (警情): something a person must handle, opened by a rule from one or
 * more events, carried through a workflow where every step records who, when
 * and a note.
 */
export type AlarmLevel = 1 | 2 | 3; // 三级预警: 1 is the most urgent
export const ALARM_CATEGORIES = ['public_order', 'fire', 'device_fault', 'help', 'hazard'] as const;
export type AlarmCategory = (typeof ALARM_CATEGORIES)[number];
export const categoryLabel: Record<AlarmCategory, string> = {
  public_order: '治安',
  fire: '消防',
  device_fault: '设备故障',
  help: '求助',
  hazard: '安全隐患',
};

/** Main line: new → accepted (受理) → dispatched (交办/处置) → resolved (办结); false_alarm (误报) closes too. */
export const ALARM_STATUSES = ['new', 'accepted', 'dispatched', 'resolved', 'false_alarm'] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];
export const CLOSED_STATUSES: readonly AlarmStatus[] = ['resolved', 'false_alarm'];

/** What a person (or the county, or a rule) can do to an alarm. */
export const ALARM_ACTIONS = [
  'open',
  'accept',
  'dispatch',
  'resolve',
  'false_alarm',
  'escalate',
  'overdue',
  'evidence',
  'note',
  'county_status',
  'raise', // level raised (升级): a correlation confirmed it, or it missed a deadline
  'linkage', // a linkage command's outcome (snapshot, PTZ, siren, broadcast)
] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

/** Status changes; side actions (escalate, overdue, evidence, note, county_status, raise, linkage) keep the status. */
const moves: Partial<Record<AlarmAction, { from: readonly AlarmStatus[]; to: AlarmStatus }>> = {
  accept: { from: ['new'], to: 'accepted' },
  dispatch: { from: ['new', 'accepted'], to: 'dispatched' },
  resolve: { from: ['new', 'accepted', 'dispatched'], to: 'resolved' },
  false_alarm: { from: ['new', 'accepted', 'dispatched'], to: 'false_alarm' },
};

export interface AlarmHistoryEntry {
  at: number;
  action: AlarmAction;
  actor: string; // user name, 'rule:<id>', 'county', 'system'
  from: AlarmStatus | null;
  to: AlarmStatus;
  note?: string;
}

/** Where an alarm is: the place of its device (and zone), for people and the county. */
export interface AlarmPlace {
  building?: string;
  unit?: string;
  point?: PointType;
  /** The device's (or zone's) name, e.g. 北围墙东段. */
  name?: string;
  zone?: number;
}

export interface Alarm {
  id: string;
  rule: string;
  level: AlarmLevel;
  category: AlarmCategory;
  title: string;
  status: AlarmStatus;
  deviceId: string | null;
  grid: string | null;
  openedAt: number;
  updatedAt: number;
  acceptBy: number | null; // 受理时限
  closeBy: number | null; // 办结时限
  escalated: boolean; // 上报
  overdue: boolean; // 超时
  count: number; // how many times the condition repeated while open
  evidence: string[]; // event ids
  snapshots: string[]; // snapshot ids
  countyStatus: string | null; // what the county wrote back (交办/督办/办结)
  place?: AlarmPlace | null;
}

export class AlarmTransitionError extends Error {
  constructor(
    readonly alarmId: string,
    readonly action: AlarmAction,
    readonly status: AlarmStatus,
  ) {
    super(`alarm ${alarmId}: cannot ${action} an alarm that is ${status}`);
  }
}

/** Apply an action to an alarm: returns the new alarm and its history entry, or throws if not allowed. */
export function applyAlarmAction(
  alarm: Alarm,
  action: Exclude<AlarmAction, 'open'>,
  actor: string,
  at: number,
  note?: string,
): { alarm: Alarm; entry: AlarmHistoryEntry } {
  const move = moves[action];
  const closed = CLOSED_STATUSES.includes(alarm.status);
  if (move && !move.from.includes(alarm.status)) throw new AlarmTransitionError(alarm.id, action, alarm.status);
  if (!move && closed && action !== 'note' && action !== 'county_status' && action !== 'linkage')
    throw new AlarmTransitionError(alarm.id, action, alarm.status);
  const to = move ? move.to : alarm.status;
  const next: Alarm = {
    ...alarm,
    status: to,
    updatedAt: at,
    escalated: alarm.escalated || action === 'escalate',
    overdue: alarm.overdue || action === 'overdue',
    countyStatus: action === 'county_status' ? (note ?? null) : alarm.countyStatus,
  };
  const entry: AlarmHistoryEntry = { at, action, actor, from: alarm.status, to, ...(note !== undefined ? { note } : {}) };
  return { alarm: next, entry };
}
