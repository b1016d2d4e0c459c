/**
 * CONNECT attempts per address per minute, as a sliding window of
 * timestamps. Bounded: at most `perMinute` stamps per address and at most
 * `maxAddresses` addresses (the oldest forgotten first).
 */
export class ConnectRateLimit {
  private seen = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Record an attempt; false when this address is over its budget. */
  allow(address: string, now: number): boolean {
    const since = now - 60_000;
    const stamps = (this.seen.get(address) ?? []).filter((t) => t > since);
    if (stamps.length >= this.perMinute) {
      this.seen.set(address, stamps);
      return false;
    }
    stamps.push(now);
    this.seen.delete(address);
    this.seen.set(address, stamps);
    if (this.seen.size > this.maxAddresses) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }
}
