import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Component } from '../core/component.ts';
import { uuidv7 } from '../core/ids.ts';
import type { SnapshotInput, SnapshotRef, SnapshotSink } from '../core/snapshot.ts';
import { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

/**
 * Snapshots as files beside the database, never inside it (flash wear, WAL
 * size, backups): `<dir>/<YYYYMMDD>/<id>.jpg`, each with a row (device, time,
 * size, sha256, why, command, alarm) referenced by id. A retention budget
 * bounds them by total size and age; pictures linked to an alarm go last.
 * Write order: file (fsynced, renamed into place) then row; delete order:
 * row then file. A crash between leaves at most an orphan file, removed at
 * the next start, never a row without its picture.
 */
export interface SnapshotBudget {
  maxBytes: number;
  maxAgeMs: number;
}

export interface SnapshotRecord extends SnapshotRef {
  sha256: string;
  reason: string;
  commandId: string | null;
  alarmId: string | null;
  /** Absolute path of the picture. */
  path: string;
}

export interface SnapshotStoreOptions {
  writer: GroupCommitWriter;
  /** The database file (a read-only connection of our own is opened on it). */
  dbFile: string;
  dir: string;
  clock: Clock;
  log: Logger;
  budget: SnapshotBudget;
  /** How often age and size limits are enforced besides every save. */
  enforceEveryMs?: number;
}

const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/bmp': 'bmp' };
/** Evict down to this share of the size budget, so a full budget does not evict on every save. */
const LOW_WATER = 0.9;

interface Row {
  id: string;
  device_id: string;
  taken_at: number;
  bytes: number;
  content_type: string;
  sha256: string;
  file: string;
  reason: string;
  command_id: string | null;
  alarm_id: string | null;
}

export class SnapshotStore implements SnapshotSink, Component {
  readonly name = 'snapshots';
  private totalBytes = 0;
  private count = 0;
  private timer: TimerHandle | null = null;
  private enforcing: Promise<void> | null = null;
  /** Removed by the budget since start (size, age). */
  readonly evicted = { size: 0, age: 0 };

  private constructor(
    private readonly o: SnapshotStoreOptions,
    private readonly reader: Db,
  ) {}

  static async open(o: SnapshotStoreOptions): Promise<SnapshotStore> {
    await mkdir(o.dir, { recursive: true });
    const s = new SnapshotStore(o, await Db.open(o.dbFile, { readonly: true }));
    const t = await s.reader.get<{ n: number; b: number | null }>('SELECT COUNT(*) AS n, SUM(bytes) AS b FROM snapshots');
    s.count = t?.n ?? 0;
    s.totalBytes = t?.b ?? 0;
    return s;
  }

  async start(): Promise<void> {
    await this.sweepOrphans();
    await this.enforce();
    const every = this.o.enforceEveryMs ?? 3600_000;
    const tick = () => {
      this.timer = this.o.clock.setTimer(every, () => void this.enforce().finally(tick));
    };
    tick();
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.enforcing;
    await this.reader.close();
  }

  usage(): { count: number; bytes: number; budget: SnapshotBudget } {
    return { count: this.count, bytes: this.totalBytes, budget: this.o.budget };
  }

  async save(input: SnapshotInput): Promise<SnapshotRef> {
    if (input.bytes.length === 0) throw new Error(`snapshot from ${input.deviceId} is empty: not stored`);
    if (input.bytes.length > this.o.budget.maxBytes)
      throw new Error(`snapshot from ${input.deviceId} (${input.bytes.length} bytes) is larger than the whole snapshot budget`);
    const id = uuidv7(input.takenAt);
    const day = new Date(input.takenAt).toISOString().slice(0, 10).replace(/-/g, '');
    const rel = `${day}/${id}.${EXT[input.contentType] ?? 'bin'}`;
    const path = join(this.o.dir, rel);
    await mkdir(join(this.o.dir, day), { recursive: true });
    const tmp = join(this.o.dir, day, `.${id}.tmp`);
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(input.bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await syncDir(join(this.o.dir, day));
    const sha256 = createHash('sha256').update(input.bytes).digest('hex');
    const row: Row = {
      id,
      device_id: input.deviceId,
      taken_at: input.takenAt,
      bytes: input.bytes.length,
      content_type: input.contentType,
      sha256,
      file: rel,
      reason: input.reason.slice(0, 256),
      command_id: input.commandId ?? null,
      alarm_id: input.alarmId ?? null,
    };
    try {
      await this.o.writer.submit({
        sync: 'full',
        build: () => ({
          statements: [
            {
              sql: `INSERT INTO snapshots (id, device_id, taken_at, bytes, content_type, sha256, file, reason, command_id, alarm_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              params: [row.id, row.device_id, row.taken_at, row.bytes, row.content_type, row.sha256, row.file, row.reason, row.command_id, row.alarm_id],
            },
          ],
          result: undefined,
        }),
      });
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    this.count++;
    this.totalBytes += row.bytes;
    if (this.totalBytes > this.o.budget.maxBytes) await this.enforce();
    return { id, deviceId: row.device_id, takenAt: row.taken_at, bytes: row.bytes, contentType: row.content_type };
  }

  async get(id: string): Promise<SnapshotRecord | null> {
    const r = await this.reader.get<Row>('SELECT * FROM snapshots WHERE id = ?', [id]);
    return r ? this.record(r) : null;
  }

  /** The picture and its type; null when the id is unknown (or the budget removed it). */
  async read(id: string): Promise<{ bytes: Buffer; contentType: string } | null> {
    const r = await this.get(id);
    if (!r) return null;
    const bytes = await readFile(r.path).catch(() => null);
    return bytes ? { bytes, contentType: r.contentType } : null;
  }

  /** The pictures a command produced (a snapshot command's outcome names one). */
  async forCommand(commandId: string): Promise<SnapshotRecord[]> {
    const rows = await this.reader.all<Row>('SELECT * FROM snapshots WHERE command_id = ? ORDER BY taken_at', [commandId]);
    return rows.map((r) => this.record(r));
  }

  async list(o: { deviceId?: string; limit?: number } = {}): Promise<SnapshotRecord[]> {
    const limit = Math.min(1000, Math.max(1, o.limit ?? 100));
    const rows = await this.reader.all<Row>(
      o.deviceId ? 'SELECT * FROM snapshots WHERE device_id = ? ORDER BY taken_at DESC LIMIT ?' : 'SELECT * FROM snapshots ORDER BY taken_at DESC LIMIT ?',
      o.deviceId ? [o.deviceId, limit] : [limit],
    );
    return rows.map((r) => this.record(r));
  }

  /** Apply the budget: remove what is older than maxAge, then the oldest (alarm evidence last) until below the size budget. */
  enforce(): Promise<void> {
    if (!this.enforcing) {
      this.enforcing = this.enforceNow().finally(() => (this.enforcing = null));
    }
    return this.enforcing;
  }

  private async enforceNow(): Promise<void> {
    const cutoff = this.o.clock.now() - this.o.budget.maxAgeMs;
    const old = await this.reader.all<Row>('SELECT * FROM snapshots WHERE taken_at < ? LIMIT 5000', [cutoff]);
    if (old.length) {
      await this.remove(old, 'age');
      this.o.log.info({ removed: old.length }, 'snapshot retention: removed pictures older than the age limit');
    }
    if (this.totalBytes <= this.o.budget.maxBytes) return;
    const target = this.o.budget.maxBytes * LOW_WATER;
    let freed = 0;
    let removed = 0;
    while (this.totalBytes > target) {
      const batch = await this.reader.all<Row>('SELECT * FROM snapshots ORDER BY alarm_id IS NOT NULL, taken_at LIMIT 200');
      if (!batch.length) break;
      const take: Row[] = [];
      let over = this.totalBytes - target;
      for (const r of batch) {
        if (over <= 0) break;
        take.push(r);
        over -= r.bytes;
      }
      await this.remove(take, 'size');
      removed += take.length;
      freed += take.reduce((n, r) => n + r.bytes, 0);
    }
    if (removed)
      this.o.log.warn(
        { removed, freedMb: +(freed / 1048576).toFixed(1), budgetMb: +(this.o.budget.maxBytes / 1048576).toFixed(1) },
        'snapshot budget full: removed the oldest pictures',
      );
  }

  /** Remove records, then files; counted as evicted as soon as the records are gone (before the files are). */
  private async remove(rows: Row[], cause: 'age' | 'size'): Promise<void> {
    if (!rows.length) return;
    const ids = rows.map((r) => r.id);
    await this.o.writer.submit({
      build: () => ({ statements: [{ sql: `DELETE FROM snapshots WHERE id IN (${ids.map(() => '?').join(',')})`, params: ids }], result: undefined }),
    });
    this.evicted[cause] += rows.length;
    for (const r of rows) {
      this.count--;
      this.totalBytes -= r.bytes;
      await rm(this.safePath(r.file), { force: true });
    }
  }

  /** Files without a row (a crash between writing a picture and committing its row) and stray temp files. */
  private async sweepOrphans(): Promise<void> {
    let removed = 0;
    const days = await readdir(this.o.dir, { withFileTypes: true }).catch(() => []);
    for (const d of days) {
      if (!d.isDirectory() || !/^\d{8}$/.test(d.name)) continue;
      const files = await readdir(join(this.o.dir, d.name));
      for (const f of files.slice(0, 10_000)) {
        const rel = `${d.name}/${f}`;
        const known = f.startsWith('.') ? undefined : await this.reader.get<{ id: string }>('SELECT id FROM snapshots WHERE file = ?', [rel]);
        if (!known) {
          await rm(join(this.o.dir, rel), { force: true });
          removed++;
        }
      }
      if ((await readdir(join(this.o.dir, d.name))).length === 0) await rm(join(this.o.dir, d.name), { recursive: true, force: true });
    }
    if (removed) this.o.log.warn({ removed }, 'removed snapshot files without a record (left by an interrupted save)');
  }

  private safePath(rel: string): string {
    const p = resolve(this.o.dir, rel);
    if (!p.startsWith(resolve(this.o.dir) + sep)) throw new Error(`snapshot file ${rel} is outside ${this.o.dir}`);
    return p;
  }

  private record(r: Row): SnapshotRecord {
    return {
      id: r.id,
      deviceId: r.device_id,
      takenAt: r.taken_at,
      bytes: r.bytes,
      contentType: r.content_type,
      sha256: r.sha256,
      reason: r.reason,
      commandId: r.command_id,
      alarmId: r.alarm_id,
      path: this.safePath(r.file),
    };
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // some file systems refuse fsync on a directory; the rename is still atomic
  }
}
