/**
 * Snapshots (抓拍): pictures a driver fetched from a camera, kept by the box
 * as files beside the database (never inside it) and referenced by id, for
 * alarm evidence and for the panel. Drivers get this port from app.ts.
 */
export interface SnapshotInput {
  deviceId: string;
  bytes: Buffer;
  contentType: string;
  /** Box time the picture was fetched. */
  takenAt: number;
  /** Why it was taken: the command's reason, "alarm evidence", ... */
  reason: string;
  commandId?: string | null;
  alarmId?: string | null;
}

export interface SnapshotRef {
  id: string;
  deviceId: string;
  takenAt: number;
  bytes: number;
  contentType: string;
}

export interface SnapshotSink {
  /** Resolves once the file and its record are durable. */
  save(s: SnapshotInput): Promise<SnapshotRef>;
}
