/**
 * Time for everything that decides by time (rules, deadlines, backoff, retention).
 * Production uses the system clock; tests drive a FakeClock so timing logic is
 * exercised without sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall time, epoch milliseconds (may jump when NTP corrects the box). */
  now(): number;
  /** Monotonic milliseconds, for measuring durations; never jumps. */
  monotonic(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Run `task` every `ms` on `clock`, the next round only once the previous one has settled (a slow round is never
 * overlapped). `task` handles its own errors; a rejection is not retried sooner. Cancel to stop.
 */
export function every(clock: Clock, ms: number, task: () => Promise<unknown>): TimerHandle {
  let stopped = false;
  let timer: TimerHandle | null = null;
  const schedule = () => {
    timer = clock.setTimer(ms, () => {
      if (stopped) return;
      void task()
        .catch(() => {})
        .finally(() => {
          if (!stopped) schedule();
        });
    });
  };
  schedule();
  return {
    cancel() {
      stopped = true;
      timer?.cancel();
    },
  };
}

interface FakeTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when a test tells it to. */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private timers: FakeTimer[] = [];
  private order = 0;

  constructor(start: number | Date = Date.UTC(2026, 10, 21, 2, 0, 0)) {
    this.wall = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: FakeTimer = { at: this.mono + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Move time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.wall += due.at - this.mono;
      this.mono = due.at;
      due.fn();
    }
    this.wall += target - this.mono;
    this.mono = target;
  }

  /** Step the wall clock alone (an NTP correction), leaving monotonic time. */
  jumpWall(ms: number): void {
    this.wall += ms;
  }

  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}
