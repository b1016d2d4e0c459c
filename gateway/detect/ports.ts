import type { Alarm, AlarmAction, AlarmHistoryEntry } from '../core/alarm.ts';
import type { Command } from '../core/command.ts';
import type { CommandRequest } from '../commands.ts';
import type { NewAlarm, StoredAlarm } from '../store/alarms.ts';

/** What the engine needs of the alarm store (the store's AlarmStore is one; the benchmark uses an in-memory one). */
export interface AlarmPort {
  open(a: NewAlarm, actor: string): Promise<StoredAlarm>;
  act(
    id: string,
    action: Exclude<AlarmAction, 'open'>,
    actor: string,
    note?: string,
    change?: (a: Alarm & { dedupeKeys: string[] }) => Alarm & { dedupeKeys: string[] },
  ): Promise<StoredAlarm>;
  addEvidence(id: string, eventIds: readonly string[], actor: string, times?: number, note?: string): Promise<StoredAlarm>;
  get(id: string): Promise<StoredAlarm | undefined>;
  listOpen(): Promise<StoredAlarm[]>;
  openedSince(at: number): Promise<StoredAlarm[]>;
  history(id: string): Promise<AlarmHistoryEntry[]>;
}

/** Linkage asks for commands through this (gateway/commands.ts: command row + audit, driver with expiry). */
export interface CommandPort {
  run(req: CommandRequest): Promise<Command & { snapshotId?: string }>;
  /** Record a command that expired before it could be sent (its row and audit), without sending it. */
  expireUnsent(req: CommandRequest, requestedAt: number, detail: string): Promise<void>;
}

/** Deadlines per level, in minutes (rules.deadlines). */
export type DeadlineTable = Record<'level1' | 'level2' | 'level3', { acceptMinutes: number; closeMinutes: number }>;

export function deadlinesFor(table: DeadlineTable, level: 1 | 2 | 3, openedAt: number): { acceptBy: number; closeBy: number } {
  const d = table[`level${level}`];
  return { acceptBy: openedAt + d.acceptMinutes * 60_000, closeBy: openedAt + d.closeMinutes * 60_000 };
}
