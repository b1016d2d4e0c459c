import { statfs, stat, writeFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { boxEvent, LANES, laneIndex, type Lane, type StoredEvent } from '../core/events.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from './db.ts';
import { eventInsert } from './events.ts';
import { outboxInsert } from './outbox.ts';
import { uuidv7 } from '../core/ids.ts';
import type { GroupCommitWriter, Statement } from './writer.ts';

/**
 * The disk budget and retention. Pressure comes in stages, and each stage
 * gives up the least valuable data first:
 *
 *   1  used ≥ maxDb, or free disk < minFree:       shed new status rows, evict the oldest status rows
 *   2  stage 1 with no status rows left to evict,
 *      or free disk < ¾·minFree:                   also shed and evict records
 *   3  used ≥ hardCap, or free disk < ½·minFree:   also evict the oldest alarm-lane rows; new alarms are still taken
 *
 * "Used" is the database's live pages (page_count − freelist_count): evicted
 * rows free pages that new rows reuse, so the file stops growing. The WAL is
 * kept small apart (autocheckpoint, journal_size_limit) and reported alone.
 * Every shed (never written) and evicted (deleted before its time) row is
 * counted in the loss table, and each new count becomes a storage_loss box
 * event with a box.loss outbox entry, so the county hears of it.
 */
export interface BudgetOptions {
  dir: string;
  file: string;
  maxDbBytes: number;
  hardCapBytes: number;
  minFreeBytes: number;
  retention: {
    eventsMs: number;
    alarmsMs: number;
    auditMs: number;
    rejectsMax: number;
    outboxMs: Record<Lane, number>;
  };
  /** Bytes kept in reserve.ballast, given up when the disk is so full that not even a delete fits (default min(8 MB, minFree/4)). */
  ballastBytes?: number;
  /** Free bytes on the data folder's filesystem (tests inject; default statfs). */
  freeBytes?: () => Promise<number>;
}

export interface Usage {
  usedBytes: number;
  fileBytes: number;
  walBytes: number;
  freeDiskBytes: number;
  stage: 0 | 1 | 2 | 3;
}

export interface LossRow {
  lane: Lane;
  cause: 'shed' | 'evicted';
  reason: string;
  count: number;
}

const CHUNK = 2000;
/** Eviction deletes in small transactions: each one's WAL must fit on a nearly full disk. */
const EVICT_CHUNK = 400;
const MAX_CHUNKS_PER_SWEEP = 200;

export class Budget {
  private shedLanes = new Set<Lane>();
  private readonly ballast: Ballast;
  private pendingShed = new Map<Lane, number>();
  private flushScheduled = false;
  private lastUsage: Usage | null = null;

  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
    private readonly opts: BudgetOptions,
    private readonly onStored: (e: StoredEvent) => void,
  ) {
    this.ballast = new Ballast(join(opts.dir, 'reserve.ballast'), opts.ballastBytes ?? Math.min(8 * 1024 * 1024, Math.floor(opts.minFreeBytes / 4)));
  }

  sheds(lane: Lane): boolean {
    return this.shedLanes.has(lane);
  }

  get usage(): Usage | null {
    return this.lastUsage;
  }

  /** Count a row that was not written; persisted with the next commit. */
  countShed(lane: Lane): void {
    this.pendingShed.set(lane, (this.pendingShed.get(lane) ?? 0) + 1);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const deltas = [...this.pendingShed];
      this.pendingShed.clear();
      this.writer.submit({ build: () => ({ statements: deltas.map(([l, n]) => lossUpsert(l, 'shed', 'disk_budget', n)), result: undefined }) }).catch(() => {
        for (const [l, n] of deltas) this.pendingShed.set(l, (this.pendingShed.get(l) ?? 0) + n);
      });
    });
  }

  async measure(): Promise<Usage> {
    const [pages, free, size] = await Promise.all([
      this.reader.pragma<number>('page_count'),
      this.reader.pragma<number>('freelist_count'),
      this.reader.pragma<number>('page_size'),
    ]);
    const walBytes = await stat(`${this.opts.file}-wal`).then(
      (s) => s.size,
      () => 0,
    );
    const freeDiskBytes = this.opts.freeBytes
      ? await this.opts.freeBytes()
      : await statfs(this.opts.dir || dirname(this.opts.file)).then((s) => s.bavail * s.bsize);
    const usedBytes = ((pages ?? 0) - (free ?? 0)) * (size ?? 4096);
    const { maxDbBytes, hardCapBytes, minFreeBytes } = this.opts;
    let stage: Usage['stage'] = 0;
    if (usedBytes >= hardCapBytes || freeDiskBytes < minFreeBytes / 2) stage = 3;
    else if (freeDiskBytes < (minFreeBytes * 3) / 4) stage = 2;
    else if (usedBytes >= maxDbBytes || freeDiskBytes < minFreeBytes) stage = 1;
    this.lastUsage = { usedBytes, fileBytes: (pages ?? 0) * (size ?? 4096), walBytes, freeDiskBytes, stage };
    return this.lastUsage;
  }

  /**
   * Measure, set which lanes shed, and evict under pressure. Cheap when there
   * is no pressure (three pragmas and a statfs): run it every second or so.
   */
  async enforce(): Promise<Usage> {
    let usage = await this.measure();
    if (usage.stage === 0) {
      this.shedLanes.clear();
      await this.ballast.ensure();
      return usage;
    }
    this.shedLanes = new Set<Lane>(usage.stage >= 2 ? ['status', 'record'] : ['status']);
    if (usage.freeDiskBytes < this.opts.minFreeBytes) {
      // Short of disk: give the WAL's space back before anything else.
      await this.checkpoint();
      usage = await this.measure();
    }
    const acted = usage.stage;
    let after: Usage;
    try {
      after = await this.evict(usage);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      // Not even room to delete (deletes write to the WAL): spend the ballast, then try once more.
      if (!(await this.ballast.release())) throw err;
      await this.checkpoint();
      after = await this.evict(await this.measure());
    }
    // Report the stage this sweep acted at, not the relief its eviction bought: the lanes it set
    // keep shedding until a sweep finds no pressure, and /healthz must say so meanwhile.
    this.lastUsage = { ...after, stage: Math.max(acted, after.stage) as Usage['stage'] };
    return this.lastUsage;
  }

  private async checkpoint(): Promise<void> {
    await this.writer.between((db) => db.exec('PRAGMA wal_checkpoint(TRUNCATE)')).catch(() => {});
  }

  private async evict(usage: Usage): Promise<Usage> {
    const bySize = usage.usedBytes >= this.opts.maxDbBytes;
    // Evicting frees pages inside the file for new rows to reuse: worth it when the
    // database is over its size, or at stage 3 to make room for alarms on a full disk.
    if (!bySize && usage.stage < 3) return usage;
    const sizeTarget = usage.usedBytes >= this.opts.hardCapBytes ? this.opts.hardCapBytes * 0.95 : this.opts.maxDbBytes * 0.9;
    // Short of disk, evicting cannot give space back to the filesystem; it can only keep
    // free pages inside the file for new alarms. Keep `headroom` of them.
    const headroom = Math.min(4 * 1024 * 1024, this.opts.minFreeBytes / 4);
    const diskTarget = usage.usedBytes - Math.max(0, headroom - (usage.fileBytes - usage.usedBytes));
    const target = Math.min(bySize ? sizeTarget : Infinity, diskTarget);
    const lanes: Lane[] = usage.stage === 3 ? ['status', 'record', 'alarm'] : ['status', 'record'];
    let chunks = 0;
    for (const lane of lanes) {
      if (lane === 'record' && usage.stage < 2) {
        this.shedLanes.add('record'); // status has nothing left to give: stage 2
      }
      while (usage.usedBytes > target && chunks++ < MAX_CHUNKS_PER_SWEEP) {
        const n = await this.evictOldest(lane);
        if (usage.freeDiskBytes < this.opts.minFreeBytes) await this.checkpoint();
        usage = await this.measure();
        if (n === 0) break;
      }
      if (usage.usedBytes <= target) break;
    }
    return usage;
  }

  private async evictOldest(lane: Lane): Promise<number> {
    let events = 0;
    let outbox = 0;
    const l = laneIndex[lane];
    await this.writer.submit({
      build: () => {
        events = 0;
        outbox = 0;
        return {
          statements: [
            {
              sql: 'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE lane = ? ORDER BY seq LIMIT ?)',
              params: [l, EVICT_CHUNK],
              changes: (n) => (outbox = n),
            },
            {
              sql: 'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE lane = ? ORDER BY seq LIMIT ?)',
              params: [l, EVICT_CHUNK],
              changes: (n) => (events = n),
            },
          ],
          result: undefined,
        };
      },
    });
    await this.countLoss([
      { lane, cause: 'evicted', reason: 'disk_budget:outbox', count: outbox },
      { lane, cause: 'evicted', reason: 'disk_budget:events', count: events },
    ]);
    return events + outbox;
  }

  private async countLoss(rows: LossRow[]): Promise<void> {
    const st = rows.filter((r) => r.count > 0).map((r) => lossUpsert(r.lane, r.cause, r.reason, r.count));
    if (st.length) await this.writer.submit({ build: () => ({ statements: st, result: undefined }) });
  }

  /** Retention by age: expired events, closed alarms, audit, rejects; undelivered outbox entries past their lane TTL are losses. */
  async expire(): Promise<{ events: number; outbox: number }> {
    const now = this.clock.now();
    const r = this.opts.retention;
    let events = 0;
    for (let i = 0; i < MAX_CHUNKS_PER_SWEEP; i++) {
      const n = await this.deleteChunk('DELETE FROM events WHERE seq < (SELECT MIN(seq) FROM events) + ? AND received_at < ?', [CHUNK, now - r.eventsMs]);
      events += n;
      if (n === 0) break;
    }
    let outbox = 0;
    for (const lane of LANES) {
      let laneLost = 0;
      for (let i = 0; i < MAX_CHUNKS_PER_SWEEP; i++) {
        const n = await this.deleteChunk('DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE lane = ? AND created_at < ? ORDER BY seq LIMIT ?)', [
          laneIndex[lane],
          now - r.outboxMs[lane],
          CHUNK,
        ]);
        laneLost += n;
        if (n === 0) break;
      }
      outbox += laneLost;
      await this.countLoss([{ lane, cause: 'evicted', reason: 'ttl:outbox', count: laneLost }]);
    }
    await this.writer.submit({
      build: () => ({
        statements: [
          {
            sql: `DELETE FROM alarm_history WHERE alarm_id IN (SELECT id FROM alarms WHERE status IN ('resolved','false_alarm') AND updated_at < ?)`,
            params: [now - r.alarmsMs],
          },
          { sql: `DELETE FROM alarms WHERE status IN ('resolved','false_alarm') AND updated_at < ?`, params: [now - r.alarmsMs] },
          { sql: 'DELETE FROM audit WHERE at < ?', params: [now - r.auditMs] },
          { sql: 'DELETE FROM rejects WHERE seq <= (SELECT MAX(seq) FROM rejects) - ?', params: [r.rejectsMax] },
        ],
        result: undefined,
      }),
    });
    return { events, outbox };
  }

  private async deleteChunk(sql: string, params: unknown[]): Promise<number> {
    let n = 0;
    await this.writer.submit({
      build: () => {
        n = 0;
        return { statements: [{ sql, params, changes: (c) => (n = c) }], result: undefined };
      },
    });
    return n;
  }

  /** Loss counted since the database was created, per lane and cause. */
  async totals(): Promise<LossRow[]> {
    const rows = await this.reader.all<{ lane: number; cause: 'shed' | 'evicted'; reason: string; count: number }>(
      'SELECT lane, cause, reason, count FROM loss ORDER BY lane, cause, reason',
    );
    return rows.map((r) => ({ lane: LANES[r.lane]!, cause: r.cause, reason: r.reason, count: r.count }));
  }

  /**
   * Turn loss counted since the last report into storage_loss box events,
   * each with a box.loss outbox entry, in one transaction with the mark.
   */
  async reportLoss(): Promise<number> {
    const rows = await this.reader.all<{ lane: number; cause: 'shed' | 'evicted'; reason: string; count: number; reported: number }>(
      'SELECT lane, cause, reason, count, reported FROM loss WHERE count > reported',
    );
    if (rows.length === 0) return 0;
    const now = this.clock.now();
    const stored = await this.writer.submit({
      sync: 'full',
      build: (next) => {
        const inserts = [];
        const statements: Statement[] = [];
        const out: StoredEvent[] = [];
        for (const r of rows) {
          const delta = r.count - r.reported;
          const e = eventInsert(
            boxEvent('storage_loss', { lane: LANES[r.lane]!, cause: r.cause, reason: r.reason, count: delta }, now),
            next('events'),
            uuidv7(now),
            null,
          );
          inserts.push(e.insert);
          inserts.push(
            outboxInsert({ lane: 'alarm', type: 'box.loss', occurredAt: now, body: { eventId: e.stored.id, ...e.stored.attrs } }, next('outbox'), now),
          );
          statements.push({ sql: 'UPDATE loss SET reported = ? WHERE lane = ? AND cause = ? AND reason = ?', params: [r.count, r.lane, r.cause, r.reason] });
          out.push(e.stored);
        }
        return { inserts, statements, result: out };
      },
    });
    for (const e of stored) this.onStored(e);
    return stored.length;
  }
}

function lossUpsert(lane: Lane, cause: 'shed' | 'evicted', reason: string, n: number): Statement {
  return {
    sql: 'INSERT INTO loss (lane, cause, reason, count) VALUES (?, ?, ?, ?) ON CONFLICT (lane, cause, reason) DO UPDATE SET count = count + excluded.count',
    params: [laneIndex[lane], cause, reason, n],
  };
}

function isDiskFull(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'SQLITE_FULL' || e?.code === 'ENOSPC' || /SQLITE_FULL|ENOSPC/.test(String(e?.message));
}

/**
 * A file of fixed size kept beside the database. When the disk is so full
 * that SQLite cannot even write the WAL pages of a DELETE, removing it gives
 * the eviction room to run; it is written again once the disk is healthy.
 */
class Ballast {
  private present: boolean | null = null;

  constructor(
    private readonly file: string,
    private readonly bytes: number,
  ) {}

  async ensure(): Promise<void> {
    if (this.present || this.bytes <= 0) return;
    try {
      await writeFile(this.file, Buffer.alloc(this.bytes));
      this.present = true;
    } catch {
      await rm(this.file, { force: true });
      this.present = false;
    }
  }

  async release(): Promise<boolean> {
    const had = await stat(this.file).then(
      () => true,
      () => false,
    );
    await rm(this.file, { force: true });
    this.present = false;
    return had;
  }
}
