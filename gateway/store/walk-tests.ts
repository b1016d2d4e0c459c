import type { Clock } from '../core/clock.ts';
import { uuidv7 } from '../core/ids.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

export interface WalkTest {
  id: string;
  startedAt: number;
  startedBy: string;
  finishedAt: number | null;
  /** The devices under test when it started. */
  devices: string[];
}

export interface WalkHit {
  deviceId: string;
  at: number;
  eventId: string;
  kind: string;
}

/** Walk tests (走测): the installer triggers every device; the first event from each after the start is its pass. */
export class WalkTestStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  async start(by: string, devices: readonly string[]): Promise<WalkTest> {
    const now = this.clock.now();
    const t: WalkTest = { id: uuidv7(now), startedAt: now, startedBy: by, finishedAt: null, devices: [...devices] };
    await this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          { sql: 'UPDATE walk_tests SET finished_at = ? WHERE finished_at IS NULL', params: [now] },
          { sql: 'INSERT INTO walk_tests (id, started_at, started_by, devices) VALUES (?, ?, ?, ?)', params: [t.id, now, by, JSON.stringify(t.devices)] },
        ],
        result: undefined,
      }),
    });
    return t;
  }

  finish(id: string): Promise<void> {
    return this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [{ sql: 'UPDATE walk_tests SET finished_at = ? WHERE id = ? AND finished_at IS NULL', params: [this.clock.now(), id] }],
        result: undefined,
      }),
    });
  }

  /** Record a device's first event of a test; later ones are ignored. */
  hit(testId: string, h: WalkHit): Promise<void> {
    return this.writer.submit({
      build: () => ({
        statements: [
          {
            sql: 'INSERT OR IGNORE INTO walk_test_hits (test_id, device_id, at, event_id, kind) VALUES (?, ?, ?, ?, ?)',
            params: [testId, h.deviceId, h.at, h.eventId, h.kind],
          },
        ],
        result: undefined,
      }),
    });
  }

  /** The running test, or else the latest one. */
  async latest(): Promise<WalkTest | undefined> {
    const r = await this.reader.get<{ id: string; started_at: number; started_by: string; finished_at: number | null; devices: string }>(
      'SELECT * FROM walk_tests ORDER BY (finished_at IS NULL) DESC, started_at DESC LIMIT 1',
    );
    return r ? { id: r.id, startedAt: r.started_at, startedBy: r.started_by, finishedAt: r.finished_at, devices: JSON.parse(r.devices) } : undefined;
  }

  async hits(testId: string): Promise<WalkHit[]> {
    return this.reader.all<WalkHit>('SELECT device_id AS deviceId, at, event_id AS eventId, kind FROM walk_test_hits WHERE test_id = ? ORDER BY at', [testId]);
  }
}
