import sqlite3 from 'sqlite3';

/**
 * A thin promise wrapper over one sqlite3 connection. sqlite3 runs each
 * statement on libuv's thread pool, so a slow fsync never blocks the event
 * loop (and so never stalls the broker).
 */
export class Db {
  private constructor(
    readonly file: string,
    private readonly db: sqlite3.Database,
  ) {}

  static open(file: string, opts: { readonly?: boolean } = {}): Promise<Db> {
    const mode = opts.readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const raw = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(new Db(file, raw))));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  run(sql: string, params: readonly unknown[] = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params as unknown[], function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      }),
    );
  }

  all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => this.db.all(sql, params as unknown[], (err, rows) => (err ? reject(err) : resolve(rows as T[]))));
  }

  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => this.db.get(sql, params as unknown[], (err, row) => (err ? reject(err) : resolve(row as T | undefined))));
  }

  async pragma<T = unknown>(name: string): Promise<T | undefined> {
    const row = await this.get<Record<string, T>>(`PRAGMA ${name}`);
    return row ? Object.values(row)[0] : undefined;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
