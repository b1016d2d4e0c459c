import type { HeldSubscription, SubscriptionMemory } from '../core/subscriptions.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

/** The camera subscriptions the box holds (one per camera at most), for the next run after a crash. */
export class CameraSubscriptionStore implements SubscriptionMemory {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
  ) {}

  async recall(): Promise<Map<string, HeldSubscription>> {
    const rows = await this.reader.all<{ device_id: string; address: string; reference_parameters: string; namespaces: string; created_at: number }>(
      'SELECT * FROM camera_subscriptions ORDER BY device_id',
    );
    return new Map(
      rows.map((r) => [
        r.device_id,
        {
          deviceId: r.device_id,
          address: r.address,
          referenceParameters: r.reference_parameters,
          namespaces: JSON.parse(r.namespaces) as Record<string, string>,
          createdAt: r.created_at,
        },
      ]),
    );
  }

  remember(s: HeldSubscription): Promise<void> {
    return this.writer.submit({
      build: () => ({
        statements: [
          {
            sql: `INSERT INTO camera_subscriptions (device_id, address, reference_parameters, namespaces, created_at) VALUES (?, ?, ?, ?, ?)
                  ON CONFLICT (device_id) DO UPDATE SET address = excluded.address, reference_parameters = excluded.reference_parameters,
                  namespaces = excluded.namespaces, created_at = excluded.created_at`,
            params: [s.deviceId, s.address, s.referenceParameters, JSON.stringify(s.namespaces), s.createdAt],
          },
        ],
        result: undefined,
      }),
    });
  }

  forget(deviceId: string): Promise<void> {
    return this.writer.submit({
      build: () => ({ statements: [{ sql: 'DELETE FROM camera_subscriptions WHERE device_id = ?', params: [deviceId] }], result: undefined }),
    });
  }
}
