/** An in-memory alarm store for the rules benchmark: the engine's writes land here, not in SQLite. */
import { applyAlarmAction, CLOSED_STATUSES, type Alarm, type AlarmAction, type AlarmHistoryEntry } from '../gateway/core/alarm.ts';
import type { Clock } from '../gateway/core/clock.ts';
import { uuidv7 } from '../gateway/core/ids.ts';
import type { AlarmPort } from '../gateway/detect/ports.ts';
import type { NewAlarm, StoredAlarm } from '../gateway/store/alarms.ts';

export class MemoryAlarms implements AlarmPort {
  readonly alarms = new Map<string, StoredAlarm>();
  readonly counts = { open: 0, evidence: 0, other: 0 };
  readonly byAction = new Map<string, number>();
  private seq = 0;

  constructor(private readonly clock: Clock) {}

  async open(a: NewAlarm): Promise<StoredAlarm> {
    const now = this.clock.now();
    const stored: StoredAlarm = {
      ...a,
      id: a.id ?? uuidv7(now),
      status: 'new',
      updatedAt: now,
      escalated: false,
      overdue: false,
      count: a.count ?? 1,
      countyStatus: null,
      place: a.place ?? null,
      dedupeKeys: a.dedupeKeys ?? [],
      changeSeq: ++this.seq,
    };
    this.alarms.set(stored.id, stored);
    this.counts.open++;
    return stored;
  }

  async act(
    id: string,
    action: Exclude<AlarmAction, 'open'>,
    actor: string,
    note?: string,
    change?: (a: Alarm & { dedupeKeys: string[] }) => Alarm & { dedupeKeys: string[] },
  ): Promise<StoredAlarm> {
    const cur = this.alarms.get(id);
    if (!cur) throw new Error(`alarm ${id} does not exist`);
    const applied = applyAlarmAction(cur, action, actor, this.clock.now(), note);
    const next = change ? change({ ...applied.alarm, dedupeKeys: cur.dedupeKeys }) : { ...applied.alarm, dedupeKeys: cur.dedupeKeys };
    const stored = { ...next, changeSeq: ++this.seq };
    this.alarms.set(id, stored);
    this.byAction.set(action, (this.byAction.get(action) ?? 0) + 1);
    if (action === 'evidence') this.counts.evidence++;
    else this.counts.other++;
    return stored;
  }

  addEvidence(id: string, eventIds: readonly string[], actor: string, times = 1, note?: string): Promise<StoredAlarm> {
    return this.act(id, 'evidence', actor, note, (a) => ({ ...a, count: a.count + times, evidence: [...a.evidence, ...eventIds].slice(0, 200) }));
  }

  async get(id: string): Promise<StoredAlarm | undefined> {
    return this.alarms.get(id);
  }

  async listOpen(): Promise<StoredAlarm[]> {
    return [...this.alarms.values()].filter((a) => !CLOSED_STATUSES.includes(a.status));
  }

  async openedSince(at: number): Promise<StoredAlarm[]> {
    return [...this.alarms.values()].filter((a) => a.openedAt >= at);
  }

  async history(): Promise<AlarmHistoryEntry[]> {
    return [];
  }
}

interface BenchTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A fake clock for the benchmark: like tests' FakeClock (time moves only when
 * told), but with a binary heap, so thousands of short timers (evidence
 * flushes, restores) cost the harness no garbage that would show up as GC
 * pauses inside the timed evaluation.
 */
export class BenchClock implements Clock {
  private heap: BenchTimer[] = [];
  private order = 0;
  private t: number;

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): { cancel(): void } {
    const timer: BenchTimer = { at: this.t + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Move to `to`, firing due timers in order. */
  advanceTo(to: number): void {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > to) break;
      this.pop();
      if (top.cancelled) continue;
      this.t = Math.max(this.t, top.at);
      top.fn();
    }
    this.t = Math.max(this.t, to);
  }

  private less(a: BenchTimer, b: BenchTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(x: BenchTimer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
