import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type {
  AlarmFilter,
  ChangeFeed,
  CountyPort,
  CountyStatus,
  CountyStream,
  DeviceHealthSource,
  DeviceInfo,
  SecretVerifier,
  SnapshotSource,
} from '../../gateway/core/county.ts';
import type { AlarmCategory, AlarmLevel, AlarmStatus } from '../../gateway/core/alarm.ts';
import type { EventKind, Lane, StoredEvent } from '../../gateway/core/events.ts';
import type { CoverageVillage } from '../../gateway/core/coverage.ts';
import { coverage, type SiteInfo } from './coverage.ts';
import { LongPolls } from './long-poll.ts';
import { RateLimiter } from './rate-limit.ts';
import * as S from './schemas.ts';
import { TokenGate, type Consumer, type Scope } from './tokens.ts';

export interface PullApiOptions {
  county: CountyPort;
  changes: ChangeFeed;
  snapshots: SnapshotSource;
  tokens: SecretVerifier;
  consumers: readonly Consumer[];
  /** The site as it is now: a config the installer applies changes the devices, grids or site the county sees. */
  inventory: () => Inventory;
  health: DeviceHealthSource;
  /** The natural villages (自然村) the installer recorded, for GET /coverage. */
  villages: () => Promise<readonly CoverageVillage[]>;
  /** Event kinds GET /events returns when no kind is asked for (the forwarding policy). */
  eventKinds: readonly EventKind[];
  requestsPerMinute: number;
  maxWaitSeconds: number;
  version: string;
  log: Logger;
}

export interface Inventory {
  site: SiteInfo;
  grids: readonly { code: string; name: string }[];
  devices: readonly DeviceInfo[];
}

export const PREFIX = '/api/county/v1';
const DOCUMENT = 'countyApiDocument';
const DAY = 86_400_000;
/** Failed token checks per address per minute before that address gets 429 without a check. */
const FAILED_AUTH_PER_MINUTE = 20;

const err = (reply: FastifyReply, status: number, error: string, message: string) => reply.code(status).send({ error, message });
const errors = {
  400: S.json(S.ErrorSchema),
  401: S.json(S.ErrorSchema),
  403: S.json(S.ErrorSchema),
  404: S.json(S.ErrorSchema),
  409: S.json(S.ErrorSchema),
  429: S.json(S.ErrorSchema),
};

/**
 * The county pull API, a fastify plugin registered under /api/county/v1 on
 * the box's HTTP server: alarms and events by cursor with long-poll,
 * per-consumer cursors committed by POST /acks, status write-back, device
 * inventory, coverage, figures, evidence. Every route has a JSON schema
 * (generated from ./schemas.ts); the OpenAPI document is served at
 * /api/county/v1/openapi.json. Tokens are scoped (read, write_back), checked
 * in constant time, and rate-limited per token and per address.
 */
export async function countyPullApi(app: FastifyInstance, o: PullApiOptions): Promise<void> {
  // Registered inside this plugin, swagger sees only this plugin's routes; under its own decorator name, so a
  // swagger the panel registers at the root does not collide with it.
  await app.register(swagger, {
    decorator: DOCUMENT,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Shouwang county pull API (守望 县级平台接口)',
        version: o.version,
        description: 'What the county platform reads from a Shouwang box and writes back. See docs/county-api.md for cursors, acks, dedupe and gaps.',
      },
      servers: [{ url: PREFIX }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({ schema, url: url.startsWith(PREFIX) ? url.slice(PREFIX.length) || '/' : url }),
  });

  const consumers = new WeakMap<FastifyRequest, Consumer>();
  const gate = new TokenGate(o.tokens, o.consumers, Date.now);
  const perKey = new RateLimiter(o.requestsPerMinute, Date.now);
  const failures = new RateLimiter(FAILED_AUTH_PER_MINUTE, Date.now, 10);
  const polls = new LongPolls();
  let known: { inventory: Inventory; byId: Map<string, DeviceInfo> } | null = null;
  const deviceById = (id: string) => {
    const inventory = o.inventory();
    if (known?.inventory !== inventory) known = { inventory, byId: new Map(inventory.devices.map((d) => [d.id, d])) };
    return known.byId.get(id);
  };
  const log = o.log;
  const lastRefusalLog = new Map<string, number>();
  app.addHook('preClose', async () => polls.closeAll());

  app.addHook('onRequest', async (req, reply) => {
    const scope = (req.routeOptions.config as { scope?: Scope }).scope;
    if (!scope) return; // the OpenAPI document
    const wait = perKey.take(`ip:${req.ip}`);
    if (wait > 0) return tooMany(reply, wait, 'this address');
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token) {
      reply.header('www-authenticate', 'Bearer realm="shouwang"');
      return err(reply, 401, 'unauthorized', 'send Authorization: Bearer <token> (a county API token from the site file, countyApi.tokens)');
    }
    const consumer = await gate.identify(token);
    if (!consumer) {
      const w = failures.take(`ip:${req.ip}`);
      refused(req);
      if (w > 0) return tooMany(reply, w, 'too many refused tokens from this address');
      reply.header('www-authenticate', 'Bearer realm="shouwang", error="invalid_token"');
      return err(reply, 401, 'invalid_token', "this token is not one of the box's county API tokens");
    }
    if (!consumer.scopes.includes(scope))
      return err(reply, 403, 'insufficient_scope', `token "${consumer.name}" has scopes [${consumer.scopes.join(', ')}]; this call needs "${scope}"`);
    const w = perKey.take(`consumer:${consumer.name}`);
    if (w > 0) return tooMany(reply, w, `token "${consumer.name}"`);
    consumers.set(req, consumer);
  });

  function tooMany(reply: FastifyReply, waitMs: number, who: string) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
    return err(reply, 429, 'rate_limited', `${who} is over ${o.requestsPerMinute} requests a minute; retry after the Retry-After seconds`);
  }

  function refused(req: FastifyRequest): void {
    const now = Date.now();
    if (now - (lastRefusalLog.get(req.ip) ?? 0) < 60_000) return;
    lastRefusalLog.set(req.ip, now);
    log.warn({ address: req.ip, path: req.url }, 'county API: refused a token (logged and audited at most once a minute per address)');
    o.county
      .audit({ actor: `address:${req.ip}`, action: 'county_api.token_refused', target: req.routeOptions.url ?? null, outcome: 'refused' })
      .catch(() => {});
  }

  const who = (req: FastifyRequest) => consumers.get(req)!;
  const gone = (reply: FastifyReply) => (fn: () => void) => reply.raw.once('close', fn);
  const startCursor = async (req: FastifyRequest, stream: CountyStream, given: string | undefined) =>
    given !== undefined ? Number(given) : ((await o.county.cursors(who(req).name)).find((c) => c.stream === stream)?.cursor ?? 0);
  const ahead = (reply: FastifyReply, stream: CountyStream, cursor: number) =>
    err(
      reply,
      409,
      'cursor_ahead',
      `cursor ${cursor} is past the newest ${stream} entry (${o.county.heads()[stream]}): it was not issued by this box's database ` +
        '(replaced after a recovery? see the storage_recovered event); read again from 0',
    );
  const waitMs = (w: number) => Math.min(w, o.maxWaitSeconds) * 1000;

  const read = { scope: 'read' as const };

  app.get(
    '/alarms',
    {
      config: read,
      schema: {
        summary: 'Alarms changed after a cursor, oldest change first (each alarm as it is now)',
        tags: ['alarms'],
        querystring: S.json(S.AlarmsQuery, 'input'),
        response: { 200: S.json(S.AlarmPage), ...errors },
      },
    },
    async (req, reply) => {
      const q = req.query as { cursor?: string; limit: number; wait: number; status?: string; minLevel?: number; category?: string; grid?: string };
      const cursor = await startCursor(req, 'alarms', q.cursor);
      if (cursor > o.county.heads().alarms) return ahead(reply, 'alarms', cursor);
      const filter: AlarmFilter = {
        ...(q.status ? { status: q.status.split(',') as AlarmStatus[] } : {}),
        ...(q.category ? { category: q.category.split(',') as AlarmCategory[] } : {}),
        ...(q.minLevel !== undefined ? { minLevel: q.minLevel as AlarmLevel } : {}),
        ...(q.grid !== undefined ? { grid: q.grid } : {}),
      };
      const page = await polls.poll(
        () => o.county.alarmsSince(cursor, q.limit, filter),
        (fn) => o.changes.onAlarmChanged(fn),
        waitMs(q.wait),
        gone(reply),
      );
      return { items: page.items, nextCursor: String(page.nextCursor), head: String(o.county.heads().alarms) };
    },
  );

  app.get(
    '/events',
    {
      config: read,
      schema: {
        summary: 'Device events after a cursor, in order',
        tags: ['events'],
        querystring: S.json(S.EventsQuery, 'input'),
        response: { 200: S.json(S.EventPage), ...errors },
      },
    },
    async (req, reply) => {
      const q = req.query as { cursor?: string; limit: number; wait: number; kind?: string; grid?: string; lane?: Lane };
      const cursor = await startCursor(req, 'events', q.cursor);
      if (cursor > o.county.heads().events) return ahead(reply, 'events', cursor);
      const filter = {
        kinds: q.kind ? (q.kind.split(',') as EventKind[]) : o.eventKinds,
        ...(q.grid !== undefined ? { grid: q.grid } : {}),
        ...(q.lane !== undefined ? { lane: q.lane } : {}),
      };
      const page = await polls.poll(
        () => o.county.eventsSince(cursor, q.limit, filter),
        (fn) => o.changes.onEventStored(fn),
        waitMs(q.wait),
        gone(reply),
      );
      return { items: page.items.map(eventView), nextCursor: String(page.nextCursor), head: String(o.county.heads().events) };
    },
  );

  function eventView(e: StoredEvent) {
    const d = deviceById(e.deviceId);
    return {
      eventId: e.id,
      eventSeq: e.seq,
      kind: e.kind,
      lane: e.lane,
      active: e.active,
      deviceId: e.deviceId,
      gbId: d?.gbId ?? null,
      grid: e.grid,
      place: d?.place ?? null,
      source: e.source ?? null,
      deviceTime: e.deviceTime,
      receivedAt: e.receivedAt,
      clockTrusted: e.clockTrusted,
      attrs: e.attrs as Record<string, unknown>,
    };
  }

  app.post(
    '/acks',
    {
      config: read,
      schema: {
        summary: "Commit this consumer's cursor: a restarted puller resumes after it",
        tags: ['cursors'],
        body: S.json(S.AckBody, 'input'),
        response: { 200: S.json(S.CursorSchema), ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body as { stream: CountyStream; cursor: string };
      const cursor = Number(b.cursor);
      if (cursor > o.county.heads()[b.stream]) return ahead(reply, b.stream, cursor);
      const c = await o.county.commitCursor(who(req).name, b.stream, cursor);
      return { ...c, cursor: String(c.cursor) };
    },
  );

  app.get(
    '/acks',
    { config: read, schema: { summary: "This consumer's committed cursors", tags: ['cursors'], response: { 200: S.json(S.CursorsSchema), ...errors } } },
    async (req) => {
      const consumer = who(req).name;
      return { consumer, cursors: (await o.county.cursors(consumer)).map((c) => ({ ...c, cursor: String(c.cursor) })) };
    },
  );

  const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] };

  app.get(
    '/alarms/:id',
    {
      config: read,
      schema: { summary: 'One alarm and its full history', tags: ['alarms'], params: idParam, response: { 200: S.json(S.AlarmDetail), ...errors } },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const found = await o.county.alarm(id);
      return found ?? err(reply, 404, 'not_found', `alarm ${id} does not exist on this box`);
    },
  );

  app.post(
    '/alarms/:id/status',
    {
      config: { scope: 'write_back' },
      schema: {
        summary: "Write the county's handling step back (交办 / 督办 / 办结 / 评价); it joins the alarm's history and the panel shows it",
        tags: ['alarms'],
        params: idParam,
        body: S.json(S.StatusBody, 'input'),
        response: { 200: S.json(S.StatusResult), ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const b = req.body as { status: CountyStatus; note: string; operator?: string; rating?: number; requestId?: string };
      if (b.rating !== undefined && b.status !== '评价') return err(reply, 400, 'bad_request', 'rating goes with status 评价 only');
      const consumer = who(req).name;
      const note = b.rating !== undefined ? `★${b.rating}${b.note ? ` ${b.note}` : ''}` : b.note;
      const r = await o.county.writeBack({
        alarmId: id,
        status: b.status,
        note,
        consumer,
        ...(b.operator ? { operator: b.operator } : {}),
        ...(b.requestId ? { requestId: b.requestId } : {}),
      });
      await o.county.audit({
        actor: `county:${consumer}`,
        action: 'alarm.county_status',
        target: id,
        outcome: r.ok ? (r.duplicate ? 'ok (repeated request, applied once)' : 'ok') : `refused: ${r.message}`,
        detail: { status: b.status, operator: b.operator ?? null, requestId: b.requestId ?? null, rating: b.rating ?? null },
      });
      if (!r.ok) return err(reply, r.reason === 'not_found' ? 404 : 409, r.reason, r.message);
      log.info({ alarm: id, status: b.status, consumer, duplicate: r.duplicate }, 'county wrote back an alarm status');
      return { alarm: r.alarm, duplicate: r.duplicate };
    },
  );

  app.get(
    '/alarms/:id/evidence/:snapshotId',
    {
      config: read,
      schema: {
        summary: "An evidence image (snapshot) of an alarm; the content type is the image's",
        tags: ['alarms'],
        params: {
          type: 'object',
          properties: { id: { type: 'string', maxLength: 64 }, snapshotId: { type: 'string', maxLength: 128 } },
          required: ['id', 'snapshotId'],
        },
        response: { 404: S.json(S.ErrorSchema), 401: errors[401], 403: errors[403], 429: errors[429] },
      },
    },
    async (req, reply) => {
      const { id, snapshotId } = req.params as { id: string; snapshotId: string };
      const found = await o.county.alarm(id);
      if (!found) return err(reply, 404, 'not_found', `alarm ${id} does not exist on this box`);
      if (!found.alarm.snapshots.includes(snapshotId)) return err(reply, 404, 'not_found', `alarm ${id} has no snapshot ${snapshotId}`);
      const img = await o.snapshots.read(id, snapshotId);
      if (!img) return err(reply, 404, 'not_found', `snapshot ${snapshotId} is not stored on this box (removed by retention, or never fetched)`);
      return reply.type(img.contentType).header('cache-control', 'private, max-age=86400').send(img.data);
    },
  );

  app.get(
    '/devices',
    {
      config: read,
      schema: {
        summary: 'Device inventory: kind, grid, place, point type, GB/T 28181 id, online, event channel, uptime over 24 h and 30 d',
        tags: ['devices'],
        response: { 200: S.json(S.DevicesSchema), ...errors },
      },
    },
    async () => {
      const health = new Map(o.health.health().map((h) => [h.deviceId, h]));
      const { devices } = o.inventory();
      const uptime = await o.county.uptime(devices.map((d) => d.id));
      return {
        items: devices.map((d) => {
          const h = health.get(d.id);
          return {
            ...d,
            pointType: d.place.point,
            online: h?.reachable ?? null,
            eventChannel: h?.eventChannel ?? 'n/a',
            lastSeen: h?.lastSeen ?? null,
            uptime: uptime.get(d.id) ?? { last24h: null, last30d: null },
          };
        }),
      };
    },
  );

  app.get(
    '/coverage',
    {
      config: read,
      schema: {
        summary: 'Camera points by grid against the 5-per-行政村 / 2-per-自然村-main-intersection rule',
        tags: ['devices'],
        response: { 200: S.json(S.CoverageSchema), ...errors },
      },
    },
    async () => {
      const online = new Map(o.health.health().map((h) => [h.deviceId, h.reachable]));
      const { site, grids, devices } = o.inventory();
      return coverage(site, grids, devices, await o.villages(), (id) => online.get(id) ?? null);
    },
  );

  app.get(
    '/stats',
    {
      config: read,
      schema: {
        summary: 'Reported, accepted, closed, 办结率, mean time to accept and to close, by category and grid',
        tags: ['figures'],
        querystring: S.json(S.StatsQuery, 'input'),
        response: { 200: S.json(S.StatsSchema), ...errors },
      },
    },
    async (req, reply) => {
      const q = req.query as { from?: string; to?: string };
      const to = q.to !== undefined ? time(q.to) : Date.now();
      const from = q.from !== undefined ? time(q.from) : to === null ? null : to - 30 * DAY;
      if (from === null || to === null)
        return err(reply, 400, 'bad_request', 'from and to are ISO 8601 times (2026-11-01T00:00:00+08:00) or epoch milliseconds');
      if (from >= to) return err(reply, 400, 'bad_request', 'from must be before to');
      if (to - from > 400 * DAY) return err(reply, 400, 'bad_request', 'ask for at most 400 days at a time');
      return o.county.stats(from, to);
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => (app as unknown as Record<typeof DOCUMENT, () => unknown>)[DOCUMENT]());
}

function time(s: string): number | null {
  if (/^\d{1,16}$/.test(s)) return Number(s);
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}
