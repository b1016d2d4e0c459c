import type { Clock } from '../core/clock.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

export interface PlanImage {
  mime: string;
  image: Buffer;
  width: number;
  height: number;
  updatedAt: number;
  updatedBy: string;
}

export interface DevicePosition {
  deviceId: string;
  /** Fractions of the image width and height (0..1), so the plan scales on any screen. */
  x: number;
  y: number;
}

/** The site plan (电子地图): one image of the estate and where each device sits on it. */
export class SitePlanStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  setImage(img: Omit<PlanImage, 'updatedAt'>): Promise<void> {
    return this.writer.submit({
      build: () => ({
        statements: [
          {
            sql: `INSERT INTO site_plan (id, mime, image, width, height, updated_at, updated_by) VALUES (1, ?, ?, ?, ?, ?, ?)
                  ON CONFLICT (id) DO UPDATE SET mime = excluded.mime, image = excluded.image, width = excluded.width,
                  height = excluded.height, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
            params: [img.mime, img.image, img.width, img.height, this.clock.now(), img.updatedBy],
          },
        ],
        result: undefined,
      }),
    });
  }

  async image(): Promise<PlanImage | undefined> {
    const r = await this.reader.get<{ mime: string; image: Buffer; width: number; height: number; updated_at: number; updated_by: string }>(
      'SELECT * FROM site_plan WHERE id = 1',
    );
    return r ? { mime: r.mime, image: r.image, width: r.width, height: r.height, updatedAt: r.updated_at, updatedBy: r.updated_by } : undefined;
  }

  /** Image facts without the bytes. */
  async info(): Promise<Omit<PlanImage, 'image'> | undefined> {
    const r = await this.reader.get<{ mime: string; width: number; height: number; updated_at: number; updated_by: string }>(
      'SELECT mime, width, height, updated_at, updated_by FROM site_plan WHERE id = 1',
    );
    return r ? { mime: r.mime, width: r.width, height: r.height, updatedAt: r.updated_at, updatedBy: r.updated_by } : undefined;
  }

  /** Place (or with null, remove) devices on the plan. */
  place(positions: readonly { deviceId: string; x: number; y: number; remove?: boolean }[], by: string): Promise<void> {
    const now = this.clock.now();
    return this.writer.submit({
      build: () => ({
        statements: positions.map((p) =>
          p.remove
            ? { sql: 'DELETE FROM device_positions WHERE device_id = ?', params: [p.deviceId] }
            : {
                sql: `INSERT INTO device_positions (device_id, x, y, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
                      ON CONFLICT (device_id) DO UPDATE SET x = excluded.x, y = excluded.y, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
                params: [p.deviceId, p.x, p.y, now, by],
              },
        ),
        result: undefined,
      }),
    });
  }

  async positions(): Promise<DevicePosition[]> {
    return this.reader.all<DevicePosition>('SELECT device_id AS deviceId, x, y FROM device_positions ORDER BY device_id');
  }
}
