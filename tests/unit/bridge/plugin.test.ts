import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { countyPullApi, PREFIX } from '../../../cloud-bridge/pull-api/plugin.ts';
import type { CountyPort, FeedAlarm } from '../../../gateway/core/county.ts';
import { silentLog } from '../../helpers/store.ts';

const alarm: FeedAlarm = {
  id: 'a1',
  changeSeq: 3,
  rule: 'perimeter',
  level: 1,
  category: 'public_order',
  title: '东围墙周界报警',
  status: 'new',
  deviceId: 'panel-1',
  grid: 'g1',
  openedAt: 1,
  updatedAt: 1,
  acceptBy: null,
  closeBy: null,
  escalated: false,
  overdue: false,
  count: 1,
  evidence: [],
  snapshots: ['snap-1'],
  countyStatus: null,
};

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

async function server(withRootSwagger: boolean) {
  const app = Fastify();
  if (withRootSwagger) await app.register(swagger, { openapi: { info: { title: 'panel', version: '1' } } }); // as the panel might
  app.get('/panel/thing', async () => ({ ok: true }));
  await app.register(countyPullApi, {
    prefix: PREFIX,
    county: { alarm: async (id: string) => (id === 'a1' ? { alarm, history: [] } : undefined) } as unknown as CountyPort,
    changes: { onAlarmChanged: () => () => {}, onEventStored: () => () => {} },
    snapshots: { read: async (a, s) => (a === 'a1' && s === 'snap-1' ? { contentType: 'image/jpeg', data: JPEG } : null) },
    tokens: { names: ['county'], verify: async (_n, t) => t === 'good-token' },
    consumers: [{ name: 'county', scopes: ['read'] }],
    inventory: () => ({ site: { boxId: 'b', name: 'x', divisionCode: '320602001001', kind: 'urban_estate' }, grids: [], devices: [] }),
    health: { health: () => [] },
    villages: async () => [],
    eventKinds: [],
    requestsPerMinute: 600,
    maxWaitSeconds: 60,
    version: 'test',
    log: silentLog,
  });
  await app.ready();
  return app;
}

describe('the pull API plugin', () => {
  it('serves an evidence image from the snapshot port with its content type', async () => {
    const app = await server(false);
    const r = await app.inject({ url: `${PREFIX}/alarms/a1/evidence/snap-1`, headers: { authorization: 'Bearer good-token' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect(r.rawPayload.equals(JPEG)).toBe(true);
    expect((await app.inject({ url: `${PREFIX}/alarms/a1/evidence/snap-2`, headers: { authorization: 'Bearer good-token' } })).statusCode).toBe(404);
    expect((await app.inject({ url: `${PREFIX}/alarms/a1/evidence/snap-1` })).statusCode).toBe(401);
    await app.close();
  });

  it('keeps its own OpenAPI document beside a swagger the panel registers at the root', async () => {
    const app = await server(true);
    const doc = (await app.inject({ url: `${PREFIX}/openapi.json` })).json() as { paths: Record<string, unknown>; info: { title: string } };
    expect(doc.info.title).toMatch(/county pull API/);
    expect(Object.keys(doc.paths)).toContain('/alarms/{id}/evidence/{snapshotId}');
    expect(Object.keys(doc.paths)).not.toContain('/panel/thing');
    await app.close();
  });
});
