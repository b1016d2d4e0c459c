import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Component } from '../core/component.ts';
import type { Store } from './store.ts';

export interface HousekeepingOptions {
  /** How often the disk budget is measured and enforced. */
  budgetEveryMs: number;
  /** How often retention runs and loss is reported upstream. */
  retentionEveryMs: number;
}

/** Runs the disk budget, retention and loss reports on a timer. */
export class Housekeeping implements Component {
  readonly name = 'housekeeping';
  private timers: TimerHandle[] = [];
  private running = false;
  private lastStage = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: HousekeepingOptions = { budgetEveryMs: 1000, retentionEveryMs: 60_000 },
  ) {}

  async start(): Promise<void> {
    this.running = true;
    await this.budget();
    await this.retention();
    this.schedule(this.opts.budgetEveryMs, () => this.budget());
    this.schedule(this.opts.retentionEveryMs, () => this.retention());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  private schedule(every: number, fn: () => Promise<void>): void {
    const tick = () => {
      if (!this.running) return;
      fn().finally(() => {
        if (this.running) this.timers.push(this.clock.setTimer(every, tick));
      });
    };
    this.timers.push(this.clock.setTimer(every, tick));
  }

  private async budget(): Promise<void> {
    try {
      const u = await this.store.budget.enforce();
      if (u.stage !== this.lastStage) {
        const level = u.stage > this.lastStage ? 'warn' : 'info';
        this.log[level](
          { stage: u.stage, usedMb: +(u.usedBytes / 1048576).toFixed(1), freeDiskMb: +(u.freeDiskBytes / 1048576).toFixed(1), shedding: this.store.shedding() },
          u.stage === 0 ? 'disk budget back to normal' : 'disk budget under pressure: shedding lower lanes (see README, disk budget)',
        );
        this.lastStage = u.stage;
      }
      // Shedding counts rows between sweeps, so unreported loss can exist whatever the stage is now.
      await this.store.budget.reportLoss();
    } catch (err) {
      this.log.error({ err }, 'disk budget check failed');
    }
  }

  private async retention(): Promise<void> {
    try {
      const r = await this.store.budget.expire();
      if (r.events || r.outbox) this.log.info(r, 'retention removed expired rows');
      await this.store.budget.reportLoss();
    } catch (err) {
      this.log.error({ err }, 'retention run failed');
    }
  }
}
