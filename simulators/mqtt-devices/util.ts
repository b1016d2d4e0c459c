/** Small helpers shared by the MQTT device simulators: durations, bounded timers. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * Parses a duration: `100ms`, `5s`, `1.5m`, `2h`, or a bare number of seconds (`5` = 5 s).
 * Returns milliseconds, or throws with a readable message.
 */
export function parseDuration(input: string | number, what = 'duration'): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`${what}: expected a non-negative number of seconds, got ${input}`);
    return Math.round(input * 1000);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(input);
  if (!m) throw new Error(`${what}: expected a duration like 100ms, 5s, 2m or 1h, got ${JSON.stringify(input)}`);
  const value = Number(m[1]);
  const unit = UNITS[m[2] ?? 's'] ?? 1000;
  return Math.round(value * unit);
}

/** Formats milliseconds for log lines: 850ms, 12.5s, 3m20s. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

/**
 * A set of timers that can all be cancelled at once. Every simulator loop runs on one of these,
 * so `stop()` really stops everything; timers are unref'd so they never keep a process alive alone.
 */
export class Timers {
  readonly #timeouts = new Set<NodeJS.Timeout>();
  readonly #intervals = new Set<NodeJS.Timeout>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  after(ms: number, fn: () => void): NodeJS.Timeout | null {
    if (this.#closed) return null;
    const t = setTimeout(
      () => {
        this.#timeouts.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    t.unref();
    this.#timeouts.add(t);
    return t;
  }

  every(ms: number, fn: () => void): NodeJS.Timeout | null {
    if (this.#closed) return null;
    const t = setInterval(fn, Math.max(1, ms));
    t.unref();
    this.#intervals.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | null | undefined): void {
    if (!t) return;
    clearTimeout(t);
    clearInterval(t);
    this.#timeouts.delete(t);
    this.#intervals.delete(t);
  }

  /** Resolves after `ms` unless the set is closed first (then resolves early). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.after(ms, resolve) === null) resolve();
    });
  }

  clearAll(): void {
    for (const t of this.#timeouts) clearTimeout(t);
    for (const t of this.#intervals) clearInterval(t);
    this.#timeouts.clear();
    this.#intervals.clear();
  }

  close(): void {
    this.#closed = true;
    this.clearAll();
  }
}

/** Rejects after `ms` with `message` unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A small seedable PRNG (mulberry32), so traffic can be made repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(items: readonly T[], random: () => number): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))] as T;
}
