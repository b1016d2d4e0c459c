import type { Clock } from '../../gateway/core/clock.ts';

export interface PacerOptions {
  /** Entries per second a replay starts at. */
  startRate: number;
  /** The pace never goes above this. */
  maxRate: number;
  /** An answer slower than this is the county struggling: slow down. */
  slowMs: number;
  /** Growth per quickly answered batch (default 1.25). */
  increase?: number;
}

/**
 * Paces a backlog replay so a county that was down is not flooded when it
 * comes back, while live traffic goes out at once.
 *
 * - live: the outbox is caught up (the last batch was not full); batches go out unpaced.
 * - replay: after an outage, a push-back, or at start, batches are spaced so
 *   entries leave at `rate` per second. Every quick answer grows the rate
 *   (×1.25) up to maxRate; a 429/5xx/timeout or a slow answer halves it (not
 *   below a quarter of the start). Catching up returns to live and resets the rate.
 */
export class Pacer {
  mode: 'live' | 'replay' = 'replay';
  rate: number;
  private nextAt = 0;
  private readonly minRate: number;

  constructor(
    private readonly o: PacerOptions,
    private readonly clock: Clock,
  ) {
    this.rate = o.startRate;
    this.minRate = Math.max(1, Math.floor(o.startRate / 4));
  }

  /** Milliseconds to wait before the next batch may go out (0 when live or when its turn has come). */
  wait(): number {
    if (this.mode === 'live') return 0;
    return Math.max(0, Math.ceil(this.nextAt - this.clock.monotonic()));
  }

  /** A batch of n entries is going out now. */
  sent(n: number): void {
    if (this.mode === 'live') return;
    this.nextAt = Math.max(this.nextAt, this.clock.monotonic()) + (n * 1000) / this.rate;
  }

  /** The county answered a batch; `full` says whether more is waiting behind it. */
  answered(rttMs: number, full: boolean): void {
    if (!full) {
      this.mode = 'live';
      this.rate = this.o.startRate;
      this.nextAt = 0;
      return;
    }
    // A full batch while live is a burst of live traffic, not a replay: it goes out unpaced.
    if (this.mode === 'live') return;
    if (rttMs > this.o.slowMs) this.rate = Math.max(this.minRate, this.rate / 2);
    else this.rate = Math.min(this.o.maxRate, this.rate * (this.o.increase ?? 1.25));
  }

  /** 429, 5xx, timeout: slow down. */
  pushback(): void {
    this.mode = 'replay';
    this.rate = Math.max(this.minRate, this.rate / 2);
  }

  /** The county could not be reached: what waits will be a replay. */
  outage(): void {
    if (this.mode === 'live') {
      this.mode = 'replay';
      this.rate = this.o.startRate;
    }
  }
}
