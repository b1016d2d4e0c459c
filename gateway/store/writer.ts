import type { Db } from './db.ts';

/**
 * Group commit. Appends queue up and commit together in one transaction:
 * when the queue reaches maxBatch jobs, when maxDelayMs has passed since the
 * first one arrived, or as soon as the previous commit finishes (jobs that
 * arrive while a commit runs, or in the event-loop turn right after it, go
 * into the next one at once). A job's promise resolves only after its
 * transaction has committed.
 *
 * Sequence numbers are handed out at commit time, inside the transaction,
 * and taken back if it rolls back, so committed sequences have no gaps and
 * no duplicates. A job that makes its batch fail (a constraint, a bad value)
 * is isolated: the batch is retried job by job, so only it is refused.
 */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly string[];
}

export interface Insert {
  table: TableSpec;
  values: unknown[];
}

export interface Statement {
  sql: string;
  params: readonly unknown[];
  /** Told how many rows the statement changed (inside the transaction). */
  changes?: (n: number) => void;
}

export const COUNTERS = ['events', 'outbox', 'alarm_history'] as const;
export type Counter = (typeof COUNTERS)[number];

export interface JobPlan<T> {
  inserts?: Insert[];
  statements?: Statement[];
  result: T;
}

export interface WriteJob<T> {
  /** Called at commit time; `next` allocates the next value of a box-wide counter. */
  build(next: (counter: Counter) => number): JobPlan<T>;
  /** 'full' makes the whole commit fsync (synchronous=FULL): used for the alarm lane. */
  sync?: 'full' | 'normal';
  /**
   * Bookkeeping on rows already committed (the county's acks): it goes ahead of queued appends, into the next
   * commit, so a delivery loop is not held behind thousands of device events waiting for their turn.
   */
  urgent?: boolean;
}

/**
 * Upkeep that rides along in commits (the timelines' catch-up): asked once per
 * commit, after the jobs are built, whether it has statements for this one.
 * They run in a savepoint: upkeep that fails is rolled back alone and never
 * costs the appends their commit.
 */
export interface CommitRider {
  /** Statements for the commit about to be made (they run after its jobs' own), or null. */
  due(counters: Readonly<Record<Counter, number>>): readonly Statement[] | null;
  /** The commit that carried them is durable. */
  committed(counters: Readonly<Record<Counter, number>>): void;
  /** They failed and were rolled back; the commit goes on without them. */
  failed(err: Error, counters: Readonly<Record<Counter, number>>): void;
}

export interface CommitStats {
  jobs: number;
  rows: number;
  durationMs: number;
  sync: 'full' | 'normal';
  ok: boolean;
}

export interface WriterOptions {
  maxBatch: number;
  maxDelayMs: number;
  onCommit?: (stats: CommitStats) => void;
}

interface Pending {
  job: WriteJob<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class WriterClosedError extends Error {
  constructor() {
    super('the store is closing: this write was not accepted (the caller should retry after restart)');
  }
}

export class GroupCommitWriter {
  private queue: Pending[] = [];
  /** Cancels the wait before the next commit (a timer or an immediate), when one is set. */
  private waiting: (() => void) | null = null;
  private lastCommitEnd = -Infinity;
  private running: Promise<void> | null = null;
  private closed = false;
  private sync: 'full' | 'normal' | null = null;
  private counters: Record<Counter, number>;
  private persisted: Record<Counter, number>;
  private sqlCache = new Map<string, string>();
  private riders: CommitRider[] = [];

  constructor(
    private readonly db: Db,
    counters: Record<Counter, number>,
    private readonly opts: WriterOptions,
  ) {
    this.counters = { ...counters };
    this.persisted = { ...counters };
  }

  /** Add upkeep to the commits from now on. */
  ride(rider: CommitRider): void {
    this.riders.push(rider);
  }

  /** The last committed value of a counter. */
  last(counter: Counter): number {
    return this.persisted[counter];
  }

  get pending(): number {
    return this.queue.length;
  }

  submit<T>(job: WriteJob<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WriterClosedError());
    return new Promise<T>((resolve, reject) => {
      const entry = { job, resolve: resolve as (v: unknown) => void, reject };
      if (job.urgent) {
        const at = this.queue.findIndex((q) => !q.job.urgent);
        this.queue.splice(at === -1 ? this.queue.length : at, 0, entry);
      } else this.queue.push(entry);
      if (this.running) return; // the running loop picks it up when the current commit ends
      if (this.queue.length >= this.opts.maxBatch || this.opts.maxDelayMs === 0) this.kick();
      else if (this.waiting) return;
      else if (performance.now() - this.lastCommitEnd < this.opts.maxDelayMs) {
        // A commit just ended: the callers it woke are coming back now. One turn of the event loop gathers them
        // into the next commit; waiting out maxDelayMs as well only left the database idle (a fifth of a busy writer's time).
        const i = setImmediate(() => this.kick());
        this.waiting = () => clearImmediate(i);
      } else {
        const t = setTimeout(() => this.kick(), this.opts.maxDelayMs);
        this.waiting = () => clearTimeout(t);
      }
    });
  }

  /** Commit everything queued, wait for it, and refuse further writes. */
  async close(): Promise<void> {
    this.closed = true;
    this.kick();
    await this.running;
  }

  /** Wait until everything submitted so far is committed. */
  async flush(): Promise<void> {
    this.kick();
    await this.running;
  }

  /**
   * Run `fn` on the write connection between transactions (a WAL checkpoint,
   * say): queued writes wait until it is done.
   */
  async between<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    while (this.running) await this.running;
    let result!: T;
    this.running = fn(this.db)
      .then((r) => void (result = r))
      .finally(() => {
        this.running = null;
        if (this.queue.length > 0) this.kick();
      });
    await this.running;
    return result;
  }

  private kick(): void {
    this.waiting?.();
    this.waiting = null;
    if (this.running || this.queue.length === 0) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      this.lastCommitEnd = performance.now();
      // A job submitted between the loop's last look and now must not wait for a timer.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      const ok = await this.commit(batch, true);
      if (!ok && batch.length > 1) {
        // Isolate the job that broke the batch; the neighbours still commit.
        for (const p of batch) await this.commit([p], false);
      }
    }
  }

  /** Commit one batch; settles the jobs' promises unless `deferFailure` and the batch failed. */
  private async commit(batch: Pending[], deferFailure: boolean): Promise<boolean> {
    const started = performance.now();
    const sync = batch.some((p) => p.job.sync === 'full') ? 'full' : 'normal';
    let rows = 0;
    const plans: { p: Pending; plan: JobPlan<unknown> }[] = [];
    const riding: CommitRider[] = [];
    try {
      if (sync !== this.sync) {
        await this.db.exec(`PRAGMA synchronous=${sync === 'full' ? 'FULL' : 'NORMAL'}`);
        this.sync = sync;
      }
      const next = (c: Counter): number => ++this.counters[c];
      for (const p of batch) {
        try {
          plans.push({ p, plan: p.job.build(next) });
        } catch (err) {
          p.reject(err);
        }
      }
      const inserts = this.insertStatements(plans);
      rows = inserts.rows;
      const upkeep: { rider: CommitRider; statements: readonly Statement[] }[] = [];
      for (const rider of this.riders) {
        const statements = rider.due(this.counters);
        if (statements) upkeep.push({ rider, statements });
      }
      // The counters' high-water marks go in with the COMMIT (integers only, so literals are safe).
      const marks = (Object.keys(this.counters) as Counter[])
        .filter((c) => this.counters[c] !== this.persisted[c])
        .map((c) => `('seq.${c}', ${Math.trunc(this.counters[c])})`);
      const commit = marks.length
        ? `INSERT INTO meta (key, value) VALUES ${marks.join(',')} ON CONFLICT (key) DO UPDATE SET value = excluded.value; COMMIT`
        : 'COMMIT';
      if (upkeep.length === 0 && plans.every(({ plan }) => !plan.statements?.length)) {
        // The usual commit, appends only: one round trip to the database thread. Each further await waited for the
        // main thread to come round (it is busy parsing the next messages), and the database sat idle meanwhile.
        await this.db.exec(['BEGIN IMMEDIATE', ...inserts.sql, commit].join(';\n'));
      } else {
        await this.db.exec(['BEGIN IMMEDIATE', ...inserts.sql].join(';\n'));
        for (const { plan } of plans) {
          for (const st of plan.statements ?? []) {
            const r = await this.db.run(st.sql, st.params);
            st.changes?.(r.changes);
          }
        }
        for (const { rider, statements } of upkeep) {
          await this.db.exec('SAVEPOINT upkeep');
          try {
            for (const st of statements) await this.db.run(st.sql, st.params);
            await this.db.exec('RELEASE upkeep');
            riding.push(rider);
          } catch (err) {
            await this.db.exec('ROLLBACK TO upkeep; RELEASE upkeep');
            rider.failed(err as Error, this.counters);
          }
        }
        await this.db.exec(commit);
      }
    } catch (err) {
      // A failure may leave the transaction open; where none was begun, ROLLBACK is a refused no-op.
      await this.db.exec('ROLLBACK').catch(() => {});
      this.counters = { ...this.persisted };
      this.opts.onCommit?.({ jobs: plans.length, rows, durationMs: performance.now() - started, sync, ok: false });
      if (deferFailure && plans.length > 1) return false;
      for (const { p } of plans) p.reject(err);
      if (plans.length === 0) for (const p of batch) p.reject(err);
      return true;
    }
    this.persisted = { ...this.counters };
    for (const rider of riding) rider.committed(this.persisted);
    this.opts.onCommit?.({ jobs: plans.length, rows, durationMs: performance.now() - started, sync, ok: true });
    for (const { p, plan } of plans) p.resolve(plan.result);
    return true;
  }

  /**
   * All of a commit's rows for one table in one statement: the rows as a JSON array of arrays, unpacked by SQLite
   * (json_each) on its own thread. Binding them one value at a time (~8,000 per commit under load) cost the main
   * thread a tenth of its time in the ingest benchmark; JSON.stringify is far cheaper. The JSON goes in as a string
   * literal, so that a commit's statements travel together in one exec: JSON.stringify escapes control characters
   * and lone surrogates, and doubling the single quotes is all a literal needs. Values are numbers, strings and
   * nulls (booleans are stored as 0/1 by the builders).
   */
  private insertStatements(plans: readonly { plan: JobPlan<unknown> }[]): { sql: string[]; rows: number } {
    const byTable = new Map<TableSpec, unknown[][]>();
    for (const { plan } of plans) {
      for (const ins of plan.inserts ?? []) {
        let list = byTable.get(ins.table);
        if (!list) byTable.set(ins.table, (list = []));
        list.push(ins.values);
      }
    }
    const sql: string[] = [];
    let rows = 0;
    for (const [table, list] of byTable) {
      rows += list.length;
      const json = JSON.stringify(list);
      sql.push(`${this.insertHead(table)}'${json.includes("'") ? json.replaceAll("'", "''") : json}')`);
    }
    return { sql, rows };
  }

  private insertHead(table: TableSpec): string {
    let sql = this.sqlCache.get(table.name);
    if (!sql) {
      const cols = table.columns.map((_, i) => `value->>${i}`).join(',');
      sql = `INSERT INTO ${table.name} (${table.columns.join(',')}) SELECT ${cols} FROM json_each(`;
      this.sqlCache.set(table.name, sql);
    }
    return sql;
  }
}
