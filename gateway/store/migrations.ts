import { TIMELINES_DDL } from './event-index.ts';
import type { Db } from './db.ts';

/**
 * Versioned schema. PRAGMA user_version holds the version a database is at;
 * each migration runs in its own transaction. Never edit a released
 * migration: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, outbox, alarms, commands, audit, rejects',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        active INTEGER NOT NULL,
        lane INTEGER NOT NULL,
        source TEXT,
        device_time INTEGER,
        received_at INTEGER NOT NULL,
        clock_offset_ms INTEGER,
        clock_trusted INTEGER NOT NULL,
        initial INTEGER NOT NULL DEFAULT 0,
        grid TEXT,
        attrs TEXT NOT NULL,
        raw TEXT
      );
      CREATE INDEX events_device ON events(device_id, seq);
      CREATE INDEX events_lane ON events(lane, seq);
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        lane INTEGER NOT NULL,
        type TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE INDEX outbox_lane ON outbox(lane, seq);
      CREATE TABLE dead_letter (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        lane INTEGER NOT NULL,
        type TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        reason TEXT NOT NULL,
        dead_at INTEGER NOT NULL
      );
      CREATE TABLE alarms (
        id TEXT PRIMARY KEY,
        change_seq INTEGER NOT NULL UNIQUE,
        rule TEXT NOT NULL,
        level INTEGER NOT NULL,
        category TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        device_id TEXT,
        grid TEXT,
        opened_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        accept_by INTEGER,
        close_by INTEGER,
        escalated INTEGER NOT NULL DEFAULT 0,
        overdue INTEGER NOT NULL DEFAULT 0,
        count INTEGER NOT NULL DEFAULT 1,
        evidence TEXT NOT NULL DEFAULT '[]',
        snapshots TEXT NOT NULL DEFAULT '[]',
        county_status TEXT
      ) WITHOUT ROWID;
      CREATE INDEX alarms_status ON alarms(status, level, opened_at);
      CREATE TABLE alarm_history (
        seq INTEGER PRIMARY KEY,
        alarm_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        note TEXT
      );
      CREATE INDEX alarm_history_alarm ON alarm_history(alarm_id, seq);
      CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        action TEXT NOT NULL,
        params TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        alarm_id TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        outcome TEXT,
        completed_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX commands_device ON commands(device_id, created_at);
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        outcome TEXT NOT NULL,
        detail TEXT
      );
      CREATE TABLE rejects (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        device_id TEXT,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        excerpt TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'device state, loss counters, events by grid',
    sql: `
      CREATE TABLE device_state (
        device_id TEXT PRIMARY KEY,
        reachable INTEGER,
        event_channel TEXT NOT NULL DEFAULT 'n/a',
        last_seen INTEGER,
        detail TEXT,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE loss (
        lane INTEGER NOT NULL,
        cause TEXT NOT NULL,
        reason TEXT NOT NULL,
        count INTEGER NOT NULL,
        reported INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (lane, cause, reason)
      ) WITHOUT ROWID;
      CREATE INDEX events_grid ON events(grid, seq);
    `,
  },
  {
    version: 3,
    name: 'device event ids for dropping resent events',
    sql: `
      ALTER TABLE events ADD COLUMN dedupe_key TEXT;
      CREATE UNIQUE INDEX events_dedupe ON events(device_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'snapshot records (the pictures are files beside the database)',
    sql: `
      CREATE TABLE snapshots (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        taken_at INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        file TEXT NOT NULL,
        reason TEXT NOT NULL,
        command_id TEXT,
        alarm_id TEXT
      ) WITHOUT ROWID;
      CREATE INDEX snapshots_taken ON snapshots(taken_at);
      CREATE INDEX snapshots_device ON snapshots(device_id, taken_at);
    `,
  },
  {
    version: 5,
    name: 'county bridge: pull cursors, write-back requests, device status transitions',
    sql: `
      CREATE TABLE county_cursors (
        consumer TEXT NOT NULL,
        stream TEXT NOT NULL,
        cursor INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (consumer, stream)
      ) WITHOUT ROWID;
      CREATE TABLE county_writebacks (
        consumer TEXT NOT NULL,
        request_id TEXT NOT NULL,
        alarm_id TEXT NOT NULL,
        change_seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (consumer, request_id)
      ) WITHOUT ROWID;
      CREATE TABLE device_transitions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        online INTEGER,
        event_channel TEXT NOT NULL,
        reported INTEGER NOT NULL
      );
      CREATE INDEX device_transitions_device ON device_transitions(device_id, at);
      CREATE INDEX alarms_opened ON alarms(opened_at);
    `,
  },
  {
    version: 6,
    name: 'detection: alarm place and dedupe keys, detection state, device maintenance',
    sql: `
      ALTER TABLE alarms ADD COLUMN place TEXT;
      ALTER TABLE alarms ADD COLUMN dedupe_keys TEXT;
      -- alarms_opened exists since version 5
      CREATE TABLE detect_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE device_maintenance (
        device_id TEXT PRIMARY KEY,
        maintenance INTEGER NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        since INTEGER NOT NULL,
        until INTEGER
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'panel: users, sessions, setup token, site plan, walk tests, provisioning',
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        last_login_at INTEGER,
        password_changed_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        address TEXT,
        user_agent TEXT
      ) WITHOUT ROWID;
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE TABLE setup_tokens (
        token_hash TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        used_by TEXT
      ) WITHOUT ROWID;
      CREATE TABLE site_plan (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        mime TEXT NOT NULL,
        image BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
      );
      CREATE TABLE device_positions (
        device_id TEXT PRIMARY KEY,
        x REAL NOT NULL,
        y REAL NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE walk_tests (
        id TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        started_by TEXT NOT NULL,
        finished_at INTEGER,
        devices TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE walk_test_hits (
        test_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        PRIMARY KEY (test_id, device_id)
      ) WITHOUT ROWID;
      CREATE TABLE natural_villages (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        cameras TEXT NOT NULL DEFAULT '[]',
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE acceptance_reports (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        installer TEXT NOT NULL,
        report TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE config_changes (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        summary TEXT NOT NULL,
        outcome TEXT NOT NULL,
        before_text TEXT,
        after_text TEXT
      ) WITHOUT ROWID;
      -- alarms_opened exists since version 5
      CREATE INDEX alarm_history_action ON alarm_history(action, alarm_id);
      CREATE INDEX events_health ON events(device_id, received_at) WHERE kind IN ('device_offline', 'event_channel_lost');
    `,
  },
  {
    version: 8,
    name: 'device and grid timelines indexed in bulk (event-index.ts)',
    sql: TIMELINES_DDL,
  },
  {
    version: 9,
    name: 'camera subscriptions held across restarts (camera-subscriptions.ts); uptime no longer read from events',
    sql: `
      DROP INDEX events_health;
      -- The hourly prune of old transitions reads by time (they are kept 400 days now, not 31).
      CREATE INDEX device_transitions_at ON device_transitions(at);
      CREATE TABLE camera_subscriptions (
        device_id TEXT PRIMARY KEY,
        address TEXT NOT NULL,
        reference_parameters TEXT NOT NULL,
        namespaces TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export class SchemaTooNewError extends Error {
  constructor(file: string, found: number) {
    super(
      `${file}: database schema version ${found} is newer than this Shouwang knows (${SCHEMA_VERSION}); ` +
        'run the newer version or restore a backup — the file was left untouched',
    );
  }
}

/** Bring a database to `target` (default: the latest). Returns the versions applied. */
export async function migrate(db: Db, target = SCHEMA_VERSION): Promise<number[]> {
  const current = (await db.pragma<number>('user_version')) ?? 0;
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(db.file, current);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    await db.exec('BEGIN IMMEDIATE');
    try {
      await db.exec(m.sql);
      await db.exec(`PRAGMA user_version = ${m.version}`);
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => {});
      throw new Error(`migration ${m.version} (${m.name}) failed on ${db.file}: ${(err as Error).message}`);
    }
    applied.push(m.version);
  }
  return applied;
}
