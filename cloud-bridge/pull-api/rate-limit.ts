/**
 * Token buckets by key (a consumer, an address): `perMinute` requests a
 * minute on average, bursts up to a quarter of that. `take` answers how long
 * to wait when the bucket is empty.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  private readonly capacity: number;
  private readonly perMs: number;
  private lastPrune = 0;

  constructor(
    perMinute: number,
    private readonly now: () => number,
    burst = Math.max(5, Math.ceil(perMinute / 4)),
  ) {
    this.capacity = burst;
    this.perMs = perMinute / 60_000;
  }

  /** 0 when the request may go; otherwise the milliseconds until it may. */
  take(key: string): number {
    const now = this.now();
    this.prune(now);
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    b.tokens = Math.min(this.capacity, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.perMs);
  }

  private prune(now: number): void {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.capacity) this.buckets.delete(k);
  }
}
