import type { Logger } from 'pino';
import type { RulesConfig } from '../../config/schema/rules.ts';
import { AlarmTransitionError, CLOSED_STATUSES, type AlarmLevel } from '../core/alarm.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { StoredAlarm } from '../store/alarms.ts';
import type { AlarmPort } from './ports.ts';
import { duration, LEVEL_LABELS } from './text.ts';

/** A timer never waits longer than this before looking again (wall-clock steps, very long deadlines). */
const MAX_WAIT_MS = 3_600_000;
const ACTOR = 'system';
export const ACCEPT_OVERDUE = '受理超时';
export const CLOSE_OVERDUE = '办结超时';

type Stage = 'accept' | 'close';

interface Entry {
  id: string;
  acceptBy: number | null;
  closeBy: number | null;
  acceptDone: boolean;
  closeDone: boolean;
}

/**
 * Handling deadlines (受理时限 / 办结时限): an alarm still new at its accept
 * deadline, or still open at its close deadline, is marked overdue (超时),
 * may become one level more urgent, and is flagged for the county (上报).
 * One timer for the earliest deadline; what is done is read back from the
 * alarm history after a restart, so a deadline that passed while the box was
 * off is acted on once, at start.
 */
export class Deadlines {
  private readonly entries = new Map<string, Entry>();
  private timer: TimerHandle | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly o: {
      alarms: AlarmPort;
      clock: Clock;
      log: Logger;
      escalation: RulesConfig['escalation'];
    },
  ) {}

  /** Watch an alarm's deadlines (again, after a raise moved them). */
  track(a: Pick<StoredAlarm, 'id' | 'acceptBy' | 'closeBy' | 'status'>, done?: { accept: boolean; close: boolean }): void {
    if (CLOSED_STATUSES.includes(a.status)) {
      this.entries.delete(a.id);
      return;
    }
    const prev = this.entries.get(a.id);
    this.entries.set(a.id, {
      id: a.id,
      acceptBy: a.acceptBy,
      closeBy: a.closeBy,
      acceptDone: done?.accept ?? prev?.acceptDone ?? a.status !== 'new',
      closeDone: done?.close ?? prev?.closeDone ?? false,
    });
    this.arm();
  }

  /** After a restart: every open alarm, with what its history says was already done. */
  async rebuild(open: readonly StoredAlarm[]): Promise<void> {
    for (const a of open) {
      const h = await this.o.alarms.history(a.id);
      const did = (tag: string) => h.some((x) => x.action === 'overdue' && x.note?.startsWith(tag));
      this.track(a, { accept: a.status !== 'new' || did(ACCEPT_OVERDUE), close: did(CLOSE_OVERDUE) });
    }
    // deadlines that passed while the box was off: now, not at the next tick
    this.running = this.running.then(() => this.fire()).catch((err: unknown) => this.o.log.error({ err }, 'deadline check failed'));
  }

  pending(): number {
    return this.entries.size;
  }

  /** Resolves when the deadline work started so far is done. */
  idle(): Promise<void> {
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private next(): number {
    let due = Infinity;
    for (const e of this.entries.values()) {
      if (!e.acceptDone && e.acceptBy !== null) due = Math.min(due, e.acceptBy);
      if (!e.closeDone && e.closeBy !== null) due = Math.min(due, e.closeBy);
    }
    return due;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = null;
    const due = this.next();
    if (due === Infinity) return;
    const wait = Math.min(Math.max(0, due - this.o.clock.now()), MAX_WAIT_MS);
    this.timer = this.o.clock.setTimer(wait, () => {
      this.timer = null;
      this.running = this.running.then(() => this.fire()).catch((err: unknown) => this.o.log.error({ err }, 'deadline check failed'));
    });
  }

  private async fire(): Promise<void> {
    const now = this.o.clock.now();
    for (const e of [...this.entries.values()]) {
      if (this.stopped) return;
      if (!e.acceptDone && e.acceptBy !== null && e.acceptBy <= now) await this.overdue(e, 'accept');
      if (!e.closeDone && e.closeBy !== null && e.closeBy <= now) await this.overdue(e, 'close');
    }
    this.arm();
  }

  private async overdue(e: Entry, stage: Stage): Promise<void> {
    if (stage === 'accept') e.acceptDone = true;
    else e.closeDone = true;
    const a = await this.o.alarms.get(e.id);
    if (!a || CLOSED_STATUSES.includes(a.status)) {
      this.entries.delete(e.id);
      return;
    }
    if (stage === 'accept' && a.status !== 'new') return; // accepted meanwhile
    const limit = (stage === 'accept' ? a.acceptBy! : a.closeBy!) - a.openedAt;
    const tag = stage === 'accept' ? ACCEPT_OVERDUE : CLOSE_OVERDUE;
    const what = stage === 'accept' ? '受理时限' : '办结时限';
    try {
      await this.o.alarms.act(a.id, 'overdue', ACTOR, `${tag}：超过${what} ${duration(limit)}（${LEVEL_LABELS[a.level]}预警）`);
      if (this.o.escalation.raiseLevel && a.level > 1) {
        const to = (a.level - 1) as AlarmLevel;
        await this.o.alarms.act(a.id, 'raise', ACTOR, `超时升级：${LEVEL_LABELS[a.level]} → ${LEVEL_LABELS[to]}`, (x) => ({
          ...x,
          level: Math.min(x.level, to) as AlarmLevel,
        }));
      }
      const flag = this.o.escalation.flagCounty;
      if ((flag === 'any' || flag === stage) && !a.escalated) await this.o.alarms.act(a.id, 'escalate', ACTOR, `${tag}，上报县级综治中心`);
      this.o.log.warn({ alarmId: a.id, stage, alarmLevel: a.level, title: a.title }, `alarm overdue (${tag})`);
    } catch (err) {
      if (err instanceof AlarmTransitionError) this.entries.delete(e.id);
      else throw err;
    }
  }
}
