/**
 * The ports between the cloud bridge (cloud-bridge/push, cloud-bridge/pull-api)
 * and the rest of the box. The bridge imports only these; gateway/app.ts
 * injects implementations (the store, the drivers, the bus).
 */
import type { Alarm, AlarmCategory, AlarmHistoryEntry, AlarmLevel, AlarmStatus } from './alarm.ts';
import type { DeviceHealth } from './driver.ts';
import type { EventKind, Lane, StoredEvent } from './events.ts';

// ---------------------------------------------------------------------------
// Push side

/** What a box.heartbeat envelope says (built by the store, stamped with uptime and version by the bridge). */
export interface BoxHeartbeat {
  uptimeSeconds: number;
  version: string;
  /** Highest outbox seq ever enqueued: the receiver knows how far behind it is. */
  lastSeq: number;
  lanes: { lane: Lane; depth: number; oldestUnsentAgeSeconds: number | null }[];
  deadLetters: number;
  disk: { freeMb: number | null; dbUsedMb: number | null; budgetStage: number };
  /** Rows shed (never written) and evicted (deleted before delivery) since the previous heartbeat, and in total. */
  loss: { sinceLast: { shed: number; evicted: number }; total: { shed: number; evicted: number } };
}

export interface HeartbeatPort {
  /** Build the heartbeat from the store's figures and enqueue it (status lane); the loss mark moves in the same commit. */
  enqueue(base: { uptimeSeconds: number; version: string }): Promise<BoxHeartbeat>;
}

/** A device as the county sees it (from the site file). */
export interface DeviceInfo {
  id: string;
  name: string;
  kind: string;
  grid: string;
  place: { building?: string; unit?: string; point: string };
  gbId: string | null;
  enabled: boolean;
  /** For cameras: does it deliver events (ONVIF PullPoint)? */
  eventsEnabled: boolean | null;
}

/** What a device.status envelope carries: one device's health changed. */
export interface DeviceStatus {
  deviceId: string;
  gbId: string | null;
  kind: string;
  grid: string;
  online: boolean | null;
  eventChannel: DeviceHealth['eventChannel'];
  lastSeen: number | null;
  detail: string | null;
  at: number;
}

export interface DeviceStatusPort {
  /** The state the county was last told of, per device (survives restarts, so a reboot does not re-announce every device). */
  lastReported(): Promise<Map<string, Pick<DeviceStatus, 'online' | 'eventChannel'>>>;
  /**
   * Record health changes (the rows uptime figures are computed from); those flagged in `report` (default all) also
   * become device.status envelopes, in the same commit.
   */
  record(changes: readonly DeviceStatus[], report?: readonly boolean[]): Promise<void>;
}

/** Live health from the drivers. */
export interface DeviceHealthSource {
  health(): DeviceHealth[];
}

// ---------------------------------------------------------------------------
// Pull side

export interface AlarmFilter {
  status?: readonly AlarmStatus[];
  /** 1 is the most urgent: minLevel 2 returns levels 1 and 2. */
  minLevel?: AlarmLevel;
  grid?: string;
  category?: readonly AlarmCategory[];
}

export interface EventFilter {
  kinds: readonly EventKind[];
  grid?: string;
  lane?: Lane;
}

/** One page of a feed: items after the cursor, and the cursor to ask with next time. */
export interface FeedPage<T> {
  items: T[];
  nextCursor: number;
}

export type FeedAlarm = Alarm & { changeSeq: number };

export type CountyStream = 'alarms' | 'events';

export interface ConsumerCursor {
  stream: CountyStream;
  cursor: number;
  updatedAt: number;
}

/** The county's write-back step (交办 / 督办 / 办结 / 评价). */
export const COUNTY_STATUSES = ['交办', '督办', '办结', '评价'] as const;
export type CountyStatus = (typeof COUNTY_STATUSES)[number];

export interface WriteBack {
  alarmId: string;
  status: CountyStatus;
  note: string;
  /** Who at the county (a name from their system), recorded in the note and the audit trail. */
  operator?: string;
  /** Optional idempotency key: a retried POST with the same key is applied once. */
  requestId?: string;
  /** The token name that made the call. */
  consumer: string;
}

export type WriteBackResult = { ok: true; alarm: FeedAlarm; duplicate: boolean } | { ok: false; reason: 'not_found' | 'conflict'; message: string };

export interface AlarmStats {
  from: number;
  to: number;
  reported: number;
  accepted: number;
  closed: number;
  falseAlarms: number;
  /** closed / reported (办结率), null when nothing was reported. */
  closureRate: number | null;
  meanTimeToAcceptSeconds: number | null;
  meanTimeToCloseSeconds: number | null;
  overdue: number;
}

export interface StatsReport {
  total: AlarmStats;
  byCategory: (AlarmStats & { category: AlarmCategory })[];
  byGrid: (AlarmStats & { grid: string | null })[];
}

export interface Uptime {
  /** Share of observed time the device was in service (online, event channel not lost; core/uptime.ts), 0..1; null when not observed in the window. */
  last24h: number | null;
  last30d: number | null;
}

/** Reads and writes the pull API needs; implemented over the store. */
export interface CountyPort {
  alarmsSince(cursor: number, limit: number, filter: AlarmFilter): Promise<FeedPage<FeedAlarm>>;
  alarm(id: string): Promise<{ alarm: FeedAlarm; history: AlarmHistoryEntry[] } | undefined>;
  eventsSince(cursor: number, limit: number, filter: EventFilter): Promise<FeedPage<StoredEvent>>;
  /** The highest committed cursor of each stream. */
  heads(): Record<CountyStream, number>;
  cursors(consumer: string): Promise<ConsumerCursor[]>;
  commitCursor(consumer: string, stream: CountyStream, cursor: number): Promise<ConsumerCursor>;
  writeBack(w: WriteBack): Promise<WriteBackResult>;
  uptime(deviceIds: readonly string[]): Promise<Map<string, Uptime>>;
  stats(from: number, to: number): Promise<StatsReport>;
  /** Audit trail for what the county did (write-backs, refused tokens). */
  audit(entry: { actor: string; action: string; target: string | null; outcome: string; detail?: unknown }): Promise<void>;
}

/** Wakes long-polls: told of every alarm change and every stored event. */
export interface ChangeFeed {
  onAlarmChanged(fn: () => void): () => void;
  onEventStored(fn: () => void): () => void;
}

/** Alarm evidence images (snapshots), by alarm and snapshot id. Resolves null when there is none. */
export interface SnapshotSource {
  read(alarmId: string, snapshotId: string): Promise<{ contentType: string; data: Buffer } | null>;
}

/** Checks a presented secret against a named, hashed one (scrypt, constant time). */
export interface SecretVerifier {
  readonly names: readonly string[];
  verify(name: string, secret: string): Promise<boolean>;
}
