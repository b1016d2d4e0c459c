import client from 'prom-client';
import type { Store } from './store/store.ts';
import type { CommitStats } from './store/writer.ts';
import type { StoredEvent } from './core/events.ts';

/**
 * The box's Prometheus metrics. Counters that must survive restarts (loss)
 * are read from the store at scrape time; hot-path counters are in memory.
 */
export class Metrics {
  readonly registry = new client.Registry();
  private store: Store | null = null;

  readonly appends = new client.Counter({
    name: 'shouwang_store_appends_total',
    help: 'Events committed to the store, by lane',
    labelNames: ['lane'],
    registers: [this.registry],
  });
  readonly commits = new client.Counter({
    name: 'shouwang_store_commits_total',
    help: 'Group commits, by sync mode and result',
    labelNames: ['sync', 'ok'],
    registers: [this.registry],
  });
  readonly commitSeconds = new client.Histogram({
    name: 'shouwang_store_commit_seconds',
    help: 'Time for one group commit (BEGIN..COMMIT)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly commitRows = new client.Histogram({
    name: 'shouwang_store_commit_rows',
    help: 'Rows inserted per group commit',
    buckets: [1, 4, 16, 64, 256, 1024, 4096],
    registers: [this.registry],
  });
  readonly rejects = new client.Counter({
    name: 'shouwang_rejects_total',
    help: 'Device payloads rejected, by device',
    labelNames: ['device'],
    registers: [this.registry],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'shouwang_' });
    const self = this;
    new client.Gauge({
      name: 'shouwang_outbox_depth',
      help: 'Entries waiting in the outbox, by lane',
      labelNames: ['lane'],
      registers: [this.registry],
      async collect() {
        if (!self.store) return;
        for (const d of await self.store.outbox.depth()) this.set({ lane: d.lane }, d.depth);
      },
    });
    new client.Gauge({
      name: 'shouwang_outbox_oldest_age_seconds',
      help: 'Age of the oldest undelivered entry, by lane (0 when empty)',
      labelNames: ['lane'],
      registers: [this.registry],
      async collect() {
        if (!self.store) return;
        const now = Date.now();
        for (const d of await self.store.outbox.depth()) this.set({ lane: d.lane }, d.oldestCreatedAt === null ? 0 : (now - d.oldestCreatedAt) / 1000);
      },
    });
    new client.Gauge({
      name: 'shouwang_store_loss_rows',
      help: 'Rows lost to the disk budget or TTL since the database was created, by lane, cause (shed: never written; evicted: deleted before delivery or their time) and reason',
      labelNames: ['lane', 'cause', 'reason'],
      registers: [this.registry],
      async collect() {
        if (!self.store) return;
        this.reset();
        for (const r of await self.store.budget.totals()) this.set({ lane: r.lane, cause: r.cause, reason: r.reason }, r.count);
      },
    });
    new client.Gauge({
      name: 'shouwang_store_bytes',
      help: 'Database bytes: used (live pages), file, wal; and free disk on the data folder',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        const u = self.store?.budget.usage;
        if (!u) return;
        this.set({ kind: 'used' }, u.usedBytes);
        this.set({ kind: 'file' }, u.fileBytes);
        this.set({ kind: 'wal' }, u.walBytes);
        this.set({ kind: 'free_disk' }, u.freeDiskBytes);
      },
    });
    new client.Gauge({
      name: 'shouwang_store_budget_stage',
      help: 'Disk budget stage: 0 ok, 1 shedding status, 2 shedding records too, 3 evicting alarms',
      registers: [this.registry],
      collect() {
        this.set(self.store?.budget.usage?.stage ?? 0);
      },
    });
    new client.Gauge({
      name: 'shouwang_store_last_seq',
      help: 'Highest committed event sequence',
      registers: [this.registry],
      collect() {
        if (self.store) this.set(self.store.events.lastSeq());
      },
    });
    new client.Gauge({
      name: 'shouwang_store_unindexed_events',
      help: 'Events not yet on the device and grid timelines (normally under ~2,300; growing means the catch-up fails)',
      registers: [this.registry],
      collect() {
        if (self.store) this.set(self.store.events.lastSeq() - self.store.events.timelines.indexed);
      },
    });
    new client.Gauge({
      name: 'shouwang_store_write_queue',
      help: 'Writes waiting for the next group commit',
      registers: [this.registry],
      collect() {
        if (self.store) this.set(self.store.writer.pending);
      },
    });
  }

  attach(store: Store): void {
    this.store = store;
  }

  onStored = (e: StoredEvent): void => {
    this.appends.inc({ lane: e.lane });
  };

  onCommit = (s: CommitStats): void => {
    this.commits.inc({ sync: s.sync, ok: String(s.ok) });
    if (s.ok) {
      this.commitSeconds.observe(s.durationMs / 1000);
      this.commitRows.observe(s.rows);
    }
  };
}
