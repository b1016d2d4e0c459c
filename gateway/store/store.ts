import { mkdir, rename, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { boxEvent, LANES, type Lane, type StoredEvent } from '../core/events.ts';
import { AlarmStore } from './alarms.ts';
import { AuditStore } from './audit.ts';
import { Budget, type BudgetOptions } from './budget.ts';
import { CommandStore } from './commands.ts';
import { Db } from './db.ts';
import { DeviceStateStore } from './devices.ts';
import { CameraSubscriptionStore } from './camera-subscriptions.ts';
import { WATERMARK_KEY } from './event-index.ts';
import { EventStore } from './events.ts';
import { migrate, SCHEMA_VERSION, SchemaTooNewError } from './migrations.ts';
import { OutboxStore } from './outbox.ts';
import { RejectStore } from './rejects.ts';
import { GroupCommitWriter, COUNTERS, type CommitStats, type Counter } from './writer.ts';

export interface StoreOptions {
  /** The data folder; the database is `<dir>/shouwang.db`. */
  dir: string;
  clock: Clock;
  log: Logger;
  groupCommit: { maxBatch: number; maxDelayMs: number };
  budget: Omit<BudgetOptions, 'dir' | 'file'>;
  outbox: { maxAttempts: number; fairShare?: number };
  /** Told of every committed event (the bus feeds the rules and the panel from here). */
  onStored?: (e: StoredEvent) => void;
  onCommit?: (s: CommitStats) => void;
}

export interface Recovery {
  movedTo: string;
  reason: string;
}

export const DB_NAME = 'shouwang.db';

/**
 * The box's durable memory: one SQLite database in WAL mode, written by one
 * connection through the group-commit writer and read by a second, read-only
 * connection that only ever sees committed rows.
 */
export class Store {
  readonly events: EventStore;
  readonly outbox: OutboxStore;
  readonly alarms: AlarmStore;
  readonly commands: CommandStore;
  readonly audit: AuditStore;
  readonly rejects: RejectStore;
  readonly devices: DeviceStateStore;
  readonly cameraSubscriptions: CameraSubscriptionStore;
  readonly budget: Budget;

  private constructor(
    readonly file: string,
    private readonly db: Db,
    private readonly reader: Db,
    readonly writer: GroupCommitWriter,
    readonly recovery: Recovery | null,
    readonly uncleanShutdown: boolean,
    indexedUpTo: number,
    opts: StoreOptions,
  ) {
    const onStored = opts.onStored ?? (() => {});
    this.budget = new Budget(writer, reader, opts.clock, { ...opts.budget, dir: dirname(file), file }, onStored);
    this.events = new EventStore(writer, reader, this.budget, onStored, indexedUpTo);
    this.outbox = new OutboxStore(writer, reader, opts.clock, { maxAttempts: opts.outbox.maxAttempts, fairShare: opts.outbox.fairShare ?? 0.1 });
    this.alarms = new AlarmStore(writer, reader, opts.clock);
    this.commands = new CommandStore(writer, reader);
    this.audit = new AuditStore(writer, reader, opts.clock);
    this.rejects = new RejectStore(writer, reader, opts.clock);
    this.devices = new DeviceStateStore(writer, reader, opts.clock);
    this.cameraSubscriptions = new CameraSubscriptionStore(writer, reader);
  }

  static async open(opts: StoreOptions): Promise<Store> {
    await mkdir(opts.dir, { recursive: true });
    const file = join(opts.dir, DB_NAME);
    const log = opts.log;
    let recovery: Recovery | null = null;
    let db: Db;
    try {
      db = await openChecked(file);
    } catch (err) {
      if (err instanceof SchemaTooNewError) throw err;
      recovery = await moveAside(file, (err as Error).message, opts.clock.now());
      log.error(
        { file, movedTo: recovery.movedTo, reason: recovery.reason },
        'database failed to open or failed its integrity check: moved aside, starting a fresh one',
      );
      db = await openChecked(file);
    }
    const applied = await migrate(db);
    if (applied.length) log.info({ file, applied }, 'database schema migrated');
    const counters = await loadCounters(db);
    const indexed = (await db.get<{ value: number }>(`SELECT value FROM meta WHERE key = ?`, [WATERMARK_KEY]))?.value ?? 0;
    const clean = await db.get<{ value: number }>(`SELECT value FROM meta WHERE key = 'clean_shutdown'`);
    const unclean = clean !== undefined && clean.value === 0;
    await db.run(`INSERT INTO meta (key, value) VALUES ('clean_shutdown', 0) ON CONFLICT (key) DO UPDATE SET value = 0`);
    const reader = await Db.open(file, { readonly: true });
    const writer = new GroupCommitWriter(db, counters, { ...opts.groupCommit, ...(opts.onCommit ? { onCommit: opts.onCommit } : {}) });
    const store = new Store(file, db, reader, writer, recovery, unclean, indexed, opts);
    if (recovery) {
      await store.events.append(boxEvent('storage_recovered', { movedTo: recovery.movedTo, reason: recovery.reason.slice(0, 512) }, opts.clock.now()), {
        forward: (e) => ({ lane: 'alarm', type: 'event', occurredAt: e.receivedAt, body: e }),
      });
    }
    return store;
  }

  /** Commit what is queued, mark a clean shutdown, close both connections. */
  async close(): Promise<void> {
    await this.writer.close();
    await this.db.run(`UPDATE meta SET value = 1 WHERE key = 'clean_shutdown'`);
    await this.reader.close();
    await this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => {});
    await this.db.close();
  }

  /** Lanes the disk budget currently sheds. */
  shedding(): Lane[] {
    return LANES.filter((l) => this.budget.sheds(l));
  }
}

async function openChecked(file: string): Promise<Db> {
  const db = await Db.open(file);
  try {
    await db.exec('PRAGMA busy_timeout = 5000');
    const mode = await db.pragma<string>('journal_mode = WAL');
    if (mode !== 'wal') throw new Error(`could not switch ${file} to WAL mode (got ${mode})`);
    const version = (await db.pragma<number>('user_version')) ?? 0;
    if (version > SCHEMA_VERSION) throw new SchemaTooNewError(file, version);
    const rows = await db.all<{ integrity_check: string }>('PRAGMA integrity_check(20)');
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    if (problems.length) throw new Error(`integrity_check failed: ${problems.join('; ')}`);
    await db.exec('PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 4194304');
    return db;
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}

/** Never delete a damaged database: rename it (and its WAL and shm) with a timestamp. */
async function moveAside(file: string, reason: string, now: number): Promise<Recovery> {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const movedTo = `${file}.corrupt-${stamp}`;
  for (const suffix of ['', '-wal', '-shm']) {
    const from = `${file}${suffix}`;
    const exists = await access(from).then(
      () => true,
      () => false,
    );
    if (exists) await rename(from, `${movedTo}${suffix}`);
  }
  return { movedTo, reason };
}

async function loadCounters(db: Db): Promise<Record<Counter, number>> {
  const meta = await db.all<{ key: string; value: number }>(`SELECT key, value FROM meta WHERE key LIKE 'seq.%'`);
  const fromMeta = (c: Counter) => meta.find((m) => m.key === `seq.${c}`)?.value ?? 0;
  const max = async (sql: string) => (await db.get<{ m: number | null }>(sql))?.m ?? 0;
  const tables: Record<Counter, number> = {
    events: await max('SELECT MAX(seq) AS m FROM events'),
    outbox: Math.max(await max('SELECT MAX(seq) AS m FROM outbox'), await max('SELECT MAX(seq) AS m FROM dead_letter')),
    alarm_history: await max('SELECT MAX(seq) AS m FROM alarm_history'),
  };
  return Object.fromEntries(COUNTERS.map((c) => [c, Math.max(fromMeta(c), tables[c])])) as Record<Counter, number>;
}
