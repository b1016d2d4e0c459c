import type { Clock } from '../core/clock.ts';
import { CountyFeed } from './county-feed.ts';
import { CountyPushStore } from './county-push.ts';
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
    readonly feed: CountyFeed,
    readonly push: CountyPushStore,
  ) {}

  static async open(store: Store, clock: Clock): Promise<CountyStores> {
    const reader = await Db.open(store.file, { readonly: true });
    await reader.exec('PRAGMA busy_timeout = 5000');
    return new CountyStores(reader, new CountyFeed(store, reader), new CountyPushStore(store, reader, clock));
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
