import type { Clock } from '../core/clock.ts';
import type { CountyPort } from '../core/county.ts';
import { CountyFeed } from './county-feed.ts';
import { CountyPushStore } from './county-push.ts';
import { CountyStats } from './county-stats.ts';
import { Db } from './db.ts';
import type { Store } from './store.ts';

/**
 * The store-side parts of the county bridge, on one read-only connection of
 * their own (beside the store's), so their reads — feeds, counts, stats —
 * never queue behind the store's hot-path reads.
 */
export class CountyStores {
  private constructor(
    private readonly reader: Db,
    private readonly store: Store,
    private readonly clock: Clock,
    readonly feed: CountyFeed,
    readonly push: CountyPushStore,
    readonly stats: CountyStats,
  ) {}

  static async open(store: Store, clock: Clock): Promise<CountyStores> {
    const reader = await Db.open(store.file, { readonly: true });
    await reader.exec('PRAGMA busy_timeout = 5000');
    return new CountyStores(reader, store, clock, new CountyFeed(store, reader), new CountyPushStore(store, reader, clock), new CountyStats(reader));
  }

  /** The pull API's port. */
  port(): CountyPort {
    const { feed, stats, store, clock } = this;
    return {
      alarmsSince: (c, l, f) => feed.alarmsSince(c, l, f),
      alarm: (id) => feed.alarm(id),
      eventsSince: (c, l, f) => feed.eventsSince(c, l, f),
      heads: () => feed.heads(),
      cursors: (consumer) => feed.cursors(consumer),
      commitCursor: (consumer, stream, cursor) => feed.commitCursor(consumer, stream, cursor, clock.now()),
      writeBack: (w) => feed.writeBack(w, clock.now()),
      uptime: (ids) => stats.uptime(ids, clock.now()),
      stats: (from, to) => stats.stats(from, to),
      audit: (e) => store.audit.record(e),
    };
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
