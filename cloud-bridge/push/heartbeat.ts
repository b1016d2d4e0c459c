import type { Logger } from 'pino';
import { every, type Clock, type TimerHandle } from '../../gateway/core/clock.ts';
import type { Component } from '../../gateway/core/component.ts';
import type { HeartbeatPort } from '../../gateway/core/county.ts';

export interface HeartbeatOptions {
  port: HeartbeatPort;
  clock: Clock;
  log: Logger;
  everyMs: number;
  version: string;
  /** Monotonic ms when the box started (uptime counts from here). */
  startedAtMono: number;
  /** Told after each heartbeat is enqueued (the pusher wakes). */
  onEnqueued?: () => void;
}

/**
 * Enqueues a box.heartbeat (status lane) at start and every `everyMs`: queue
 * depth and oldest unsent age per lane, dead letters, disk, loss since the
 * previous heartbeat, uptime, version. Queued like everything else, so after
 * an outage the county sees how the backlog grew.
 */
export class Heartbeat implements Component {
  readonly name = 'county-heartbeat';
  private timer: TimerHandle | null = null;

  constructor(private readonly o: HeartbeatOptions) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = every(this.o.clock, this.o.everyMs, () => this.beat());
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
  }

  async beat(): Promise<void> {
    try {
      await this.o.port.enqueue({ uptimeSeconds: Math.round((this.o.clock.monotonic() - this.o.startedAtMono) / 1000), version: this.o.version });
      this.o.onEnqueued?.();
    } catch (err) {
      this.o.log.warn({ err }, 'could not enqueue a heartbeat; trying again at the next one');
    }
  }
}
