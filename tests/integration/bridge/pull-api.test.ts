import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../config/schema/secret.ts';
import type { App } from '../../../gateway/app.ts';
import type { NewAlarm } from '../../../gateway/store/alarms.ts';
import { Puller } from '../../../simulators/county-platform/puller.ts';
import { smallSite, startApp } from '../../helpers/app.ts';
import { connect, end, publish } from '../../helpers/mqtt.ts';
import { tempDir } from '../../helpers/store.ts';

const READ = 'read-token-0123456789';
const OPS = 'ops-token-9876543210';
const t = tempDir('shouwang-pull-api-');
let app: App & { mqttUrl: string };
let api: string;

beforeAll(async () => {
  app = await startApp(
    t.dir,
    smallSite({
      countyApi: {
        enabled: true,
        requestsPerMinute: 600,
        tokens: [
          { name: 'county-reader', token: READ, scopes: ['read'] },
          // the site file may hold only the hash
          { name: 'county-ops', token: { scrypt: hashSecret(OPS) }, scopes: ['read', 'write_back'] },
        ],
      },
    }),
  );
  api = `${app.http.url}/api/county/v1`;
});
afterAll(async () => {
  await app?.stop();
  t.cleanup();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, asserted on field by field
type Json = any;
const body = async (r: Response | Promise<Response>): Promise<Json> => (await r).json();

const get = (path: string, token = READ) => fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
const post = (path: string, body: unknown, token = OPS) =>
  fetch(`${api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

let n = 0;
function openAlarm(over: Partial<NewAlarm> = {}) {
  n++;
  return app.store.alarms.open(
    {
      rule: 'sos',
      level: 1,
      category: 'help',
      title: `一键报警 ${n}`,
      deviceId: 'sos-1',
      grid: '320602001001-01',
      openedAt: Date.now(),
      acceptBy: null,
      closeBy: null,
      evidence: [],
      snapshots: [],
      ...over,
    },
    'rule:sos',
  );
}

describe('tokens', () => {
  it('refuses a missing or unknown token, and a read token on write-back; accepts a hashed one', async () => {
    const none = await fetch(`${api}/alarms`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await body(none)).toMatchObject({ error: 'unauthorized' });
    expect((await get('/alarms', 'not-a-token-at-all')).status).toBe(401);
    const a = await openAlarm();
    const refused = await post(`/alarms/${a.id}/status`, { status: '交办', note: 'x' }, READ);
    expect(refused.status).toBe(403);
    expect((await body(refused)).message).toMatch(/token "county-reader" has scopes \[read\]; this call needs "write_back"/);
    expect((await post(`/alarms/${a.id}/status`, { status: '交办', note: '请核查' }, OPS)).status).toBe(200);
    expect((await get('/alarms', OPS)).status).toBe(200);
    const audit = await app.store.audit.list({ action: 'county_api.token_refused' });
    expect(audit.length).toBeGreaterThan(0);
  });
});

describe('alarms by cursor', () => {
  it('pages alarms after a cursor, and a restarted puller resumes after its committed cursor', async () => {
    const head0 = Number((await body(get('/alarms?limit=1000'))).nextCursor);
    const opened = [await openAlarm(), await openAlarm(), await openAlarm()];
    const page = await body(get(`/alarms?cursor=${head0}&limit=2`));
    expect(page.items.map((a: { id: string }) => a.id)).toEqual(opened.slice(0, 2).map((a) => a.id));
    const rest = await body(get(`/alarms?cursor=${page.nextCursor}`));
    expect(rest.items.map((a: { id: string }) => a.id)).toEqual([opened[2]!.id]);

    const first = new Puller({ base: app.http.url, token: READ });
    await first.once('alarms'); // reads from 0 (no committed cursor), commits
    expect(first.alarms.has(opened[2]!.id)).toBe(true);
    const more = await openAlarm();
    const restarted = new Puller({ base: app.http.url, token: READ });
    expect(await restarted.once('alarms')).toBe(1); // only what came after the commit
    expect([...restarted.alarms.keys()]).toEqual([more.id]);
    const acks = await body(get('/acks'));
    expect(acks).toMatchObject({ consumer: 'county-reader', cursors: [{ stream: 'alarms', cursor: restarted.cursors.alarms }] });
  });

  it('filters by status, level and grid, and refuses a cursor the box never issued', async () => {
    const head = Number((await body(get('/alarms?limit=1000'))).nextCursor);
    await openAlarm({ level: 3, category: 'hazard' });
    const urgent = await openAlarm({ level: 1, category: 'fire', grid: '320602001001-01' });
    const onlyUrgent = await body(get(`/alarms?cursor=${head}&minLevel=2&category=fire,help`));
    expect(onlyUrgent.items.map((a: { id: string }) => a.id)).toEqual([urgent.id]);
    expect(Number(onlyUrgent.nextCursor)).toBeGreaterThan(head); // the cursor moves past what the filter skipped
    const bad = await get('/alarms?status=open');
    expect(bad.status).toBe(400);
    expect((await body(bad)).message).toMatch(/status/);
    const ahead = await get('/alarms?cursor=99999999');
    expect(ahead.status).toBe(409);
    expect((await body(ahead)).message).toMatch(/past the newest alarms entry/);
    expect((await post('/acks', { stream: 'alarms', cursor: '99999999' }, READ)).status).toBe(409);
  });

  it('wakes a long-poll as soon as a new alarm is committed', async () => {
    const head = (await body(get('/alarms?limit=1000'))).nextCursor;
    const started = Date.now();
    const pending = get(`/alarms?cursor=${head}&wait=20`);
    await new Promise((r) => setTimeout(r, 400));
    const a = await openAlarm({ title: '周界报警' });
    const page = await body(pending);
    const took = Date.now() - started;
    expect(page.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(2500);
  });

  it('answers an empty long-poll when its wait runs out', async () => {
    const head = (await body(get('/alarms?limit=1000'))).nextCursor;
    const started = Date.now();
    const page = await body(get(`/alarms?cursor=${head}&wait=1`));
    expect(page.items).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });
});

describe('write-back', () => {
  it("records 交办/督办/办结/评价 in the alarm's history as the county, once per requestId, audited, and sends the change upstream", async () => {
    const a = await openAlarm();
    const r1 = await post(`/alarms/${a.id}/status`, { status: '交办', note: '请网格员张秀兰现场核查', operator: '值班员李', requestId: 'req-1' });
    expect(r1.status).toBe(200);
    expect(await body(r1)).toMatchObject({ duplicate: false, alarm: { id: a.id, countyStatus: '交办', status: 'new' } });
    const again = await body(post(`/alarms/${a.id}/status`, { status: '交办', note: '请网格员张秀兰现场核查', operator: '值班员李', requestId: 'req-1' }));
    expect(again.duplicate).toBe(true);
    const rated = await body(post(`/alarms/${a.id}/status`, { status: '评价', rating: 5, note: '处置及时' }));
    expect(rated.alarm.countyStatus).toBe('评价');
    const detail = await body(get(`/alarms/${a.id}`));
    const county = detail.history.filter((h: { action: string }) => h.action === 'county_status');
    expect(county).toEqual([
      expect.objectContaining({ actor: 'county', note: '交办（值班员李）：请网格员张秀兰现场核查' }),
      expect.objectContaining({ actor: 'county', note: '评价：★5 处置及时' }),
    ]);
    const audit = await app.store.audit.list({ action: 'alarm.county_status' });
    expect(audit.filter((e) => e.target === a.id).map((e) => e.outcome)).toEqual(['ok', 'ok (repeated request, applied once)', 'ok']);
    expect(audit[0]!.actor).toBe('county:county-ops');
    const upstream = (await app.store.outbox.next(1000)).filter((e) => e.type === 'alarm.updated' && (e.body as { alarm: { id: string } }).alarm.id === a.id);
    expect(upstream).toHaveLength(2);

    expect((await post('/alarms/no-such-alarm/status', { status: '办结', note: '' })).status).toBe(404);
    const badRating = await post(`/alarms/${a.id}/status`, { status: '办结', rating: 3 });
    expect(badRating.status).toBe(400);
    const badStatus = await post(`/alarms/${a.id}/status`, { status: '完成' });
    expect(badStatus.status).toBe(400);
    expect((await post(`/alarms/${a.id}/status`, { status: '督办', requestId: 'req-1' })).status).toBe(200); // same key, same alarm: repeat
    const other = await openAlarm();
    const clash = await post(`/alarms/${other.id}/status`, { status: '督办', requestId: 'req-1' });
    expect(clash.status).toBe(409);
  });
});

describe('events, devices, coverage, figures, evidence, OpenAPI', () => {
  it('serves device events with their place, by cursor', async () => {
    const head = (await body(get('/events?limit=1000'))).nextCursor;
    const door = await connect(app.mqttUrl, { clientId: 'door-2', username: 'door-2', password: 'door-2-demo' });
    await publish(door, 'sw/v1/door-2/event', JSON.stringify({ id: 'd2-1', type: 'access', result: 'granted', method: 'card', credential: '04A1B2C3' }));
    await end(door);
    const page = await body(get(`/events?cursor=${head}&kind=access_granted`));
    expect(page.items).toEqual([
      expect.objectContaining({ kind: 'access_granted', deviceId: 'door-2', grid: '320602001001-01', place: { point: 'entrance' }, lane: 'record' }),
    ]);
    expect(JSON.stringify(page)).not.toContain('04A1B2C3'); // only the salted hash
    expect(page.items[0]).not.toHaveProperty('raw'); // the device's raw excerpt stays on the box
  });

  it('lists devices with health and uptime, coverage, and figures', async () => {
    const devices = await body(get('/devices'));
    expect(devices.items.map((d: { id: string }) => d.id)).toEqual(['panel-1', 'door-1', 'door-2', 'sos-1']);
    expect(devices.items[0]).toMatchObject({ kind: 'alarm_panel', pointType: 'entrance', gbId: null, eventChannel: 'n/a', uptime: { last24h: null } });
    const cov = await body(get('/coverage'));
    expect(cov).toMatchObject({ site: { kind: 'urban_estate' }, rule: null, compliant: null, total: { cameras: 0 } });
    const from = Date.now();
    const a = await openAlarm({ category: 'fire' });
    await openAlarm({ category: 'fire', grid: '320602001001-02' });
    await app.store.alarms.act(a.id, 'accept', '保安王');
    await app.store.alarms.act(a.id, 'resolve', '保安王');
    const stats = await body(get(`/stats?from=${from}&to=${new Date(Date.now() + 1000).toISOString()}`));
    expect(stats.total).toMatchObject({ reported: 2, accepted: 1, closed: 1, closureRate: 0.5, falseAlarms: 0 });
    expect(stats.total.meanTimeToCloseSeconds).toBeGreaterThanOrEqual(0);
    expect(stats.byCategory.find((c: { category: string }) => c.category === 'fire')).toMatchObject({ reported: 2, closed: 1 });
    expect(stats.byGrid.map((g: { grid: string; reported: number }) => [g.grid, g.reported])).toEqual([
      ['320602001001-01', 1],
      ['320602001001-02', 1],
    ]);
    expect((await get('/stats?from=yesterday')).status).toBe(400);
  });

  it('answers not found for evidence the box does not hold', async () => {
    const a = await openAlarm({ snapshots: ['snap-1'] });
    const r = await get(`/alarms/${a.id}/evidence/snap-1`);
    expect(r.status).toBe(404);
    expect((await body(r)).message).toMatch(/not stored on this box/);
    expect((await get(`/alarms/${a.id}/evidence/snap-2`)).status).toBe(404);
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const r = await fetch(`${api}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = await body(r);
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/acks',
      '/alarms',
      '/alarms/{id}',
      '/alarms/{id}/evidence/{snapshotId}',
      '/alarms/{id}/status',
      '/coverage',
      '/devices',
      '/events',
      '/stats',
    ]);
    const params = doc.paths['/alarms'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['cursor', 'limit', 'wait', 'status', 'minLevel', 'grid']));
    expect(doc.paths['/alarms/{id}/status'].post.requestBody.content['application/json'].schema.properties.status.enum).toEqual([
      '交办',
      '督办',
      '办结',
      '评价',
    ]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(JSON.stringify(doc)).not.toContain('/healthz'); // only the county API
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a token goes over its budget', async () => {
    const t2 = tempDir('shouwang-pull-rl-');
    const small = await startApp(t2.dir, smallSite({ countyApi: { enabled: true, requestsPerMinute: 10, tokens: [{ name: 'county', token: READ }] } }));
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const r = await fetch(`${small.http.url}/api/county/v1/devices`, { headers: { authorization: `Bearer ${READ}` } });
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await small.stop();
      t2.cleanup();
    }
  });
});
