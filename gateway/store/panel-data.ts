import type { Clock } from '../core/clock.ts';
import { Db } from './db.ts';
import { PanelQueries } from './panel-queries.ts';
import { ProvisioningStore } from './provisioning.ts';
import { SessionStore } from './sessions.ts';
import { SitePlanStore } from './site-plan.ts';
import type { Store } from './store.ts';
import { SetupTokenStore, UserStore } from './users.ts';
import { WalkTestStore } from './walk-tests.ts';

/**
 * The panel's and the installer's tables (migration 7). Writes go through the
 * store's one group-commit writer; reads use a read-only connection of their
 * own, which, like the store's, sees only committed rows.
 */
export class PanelData {
  private constructor(
    private readonly reader: Db,
    readonly users: UserStore,
    readonly setupTokens: SetupTokenStore,
    readonly sessions: SessionStore,
    readonly plan: SitePlanStore,
    readonly walkTests: WalkTestStore,
    readonly provisioning: ProvisioningStore,
    readonly queries: PanelQueries,
  ) {}

  static async open(store: Store, clock: Clock): Promise<PanelData> {
    const reader = await Db.open(store.file, { readonly: true });
    await reader.exec('PRAGMA busy_timeout = 5000');
    const w = store.writer;
    return new PanelData(
      reader,
      new UserStore(w, reader, clock),
      new SetupTokenStore(w, reader, clock),
      new SessionStore(w, reader, clock),
      new SitePlanStore(w, reader, clock),
      new WalkTestStore(w, reader, clock),
      new ProvisioningStore(w, reader, clock),
      new PanelQueries(reader),
    );
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
