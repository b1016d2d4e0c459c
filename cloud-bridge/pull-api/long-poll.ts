import type { FeedPage } from '../../gateway/core/county.ts';

/**
 * Long-polls: a read that finds nothing waits for a change notification (or
 * the deadline, or the caller hanging up, or the server closing), then reads
 * again. The subscription is made before the first read, so a change that
 * lands between the read and the wait is not missed.
 */
export class LongPolls {
  private wakers = new Set<() => void>();
  private closing = false;

  get waiting(): number {
    return this.wakers.size;
  }

  /** The server is closing: every waiting poll answers now with what it has. */
  closeAll(): void {
    this.closing = true;
    for (const w of this.wakers) w();
  }

  async poll<T>(
    read: () => Promise<FeedPage<T>>,
    subscribe: (fn: () => void) => () => void,
    waitMs: number,
    onGone: (fn: () => void) => void,
  ): Promise<FeedPage<T>> {
    let changed = false;
    let wake: (() => void) | null = null;
    let gone = false;
    const unsubscribe = subscribe(() => {
      changed = true;
      wake?.();
    });
    onGone(() => {
      gone = true;
      wake?.();
    });
    const deadline = Date.now() + waitMs;
    try {
      for (;;) {
        changed = false;
        const page = await read();
        if (page.items.length > 0 || waitMs <= 0 || gone || this.closing) return page;
        if (!changed) {
          const left = deadline - Date.now();
          if (left <= 0) return page;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, left);
            const waker = () => done();
            function done() {
              clearTimeout(timer);
              wake = null;
              wakers.delete(waker);
              resolve();
            }
            const wakers = this.wakers;
            wake = done;
            wakers.add(waker);
          });
          if (!changed) return page; // the deadline passed, the caller left, or the server is closing
        }
      }
    } finally {
      unsubscribe();
    }
  }
}
