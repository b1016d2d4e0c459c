import { z } from 'zod';
import { ALARM_CATEGORIES, ALARM_STATUSES, AlarmTransitionError, type Alarm } from '../../core/alarm.ts';
import type { StoredEvent } from '../../core/events.ts';
import type { StoredAlarm } from '../../store/alarms.ts';
import { auditAs, type ChangedAlarm, type PanelDeps } from '../deps.ts';
import type { LiveHub } from '../live.ts';
import { emptyQuery, RequestError, route, type RouteDef } from '../route-table.ts';
import { isOverdue, SiteIndex } from '../site-index.ts';
import { panelCommands } from './devices.ts';

const idParams = z.object({ id: z.string().min(1).max(64) });

/** What guards may do to an alarm from the panel: 受理, 处置 (note required), 办结, 误报, 上报, or add a note. */
export const PANEL_ACTIONS = ['accept', 'dispatch', 'resolve', 'false_alarm', 'escalate', 'note'] as const;

export function alarmView(a: ChangedAlarm, site: SiteIndex, now: number) {
  const d = a.deviceId ? site.devices.get(a.deviceId) : undefined;
  return {
    ...a,
    deviceName: site.deviceName(a.deviceId),
    place: d?.place ?? null,
    gridName: a.grid ? (site.grids.get(a.grid) ?? a.grid) : null,
    overdueNow: isOverdue(a, now),
  };
}

export function alarmRoutes(deps: PanelDeps, hub: LiveHub): RouteDef[] {
  const site = () => new SiteIndex(deps.config());

  return [
    route({
      method: 'GET',
      url: '/alarms',
      allow: 'read',
      kind: 'api',
      summary: 'Alarms, most urgent first (level, then age); filters: status, level, grid, category',
      schema: {
        querystring: z.object({
          status: z.enum(['open', 'closed', 'all', ...ALARM_STATUSES]).default('open'),
          level: z.coerce.number().int().min(1).max(3).optional(),
          grid: z.string().max(40).optional(),
          category: z.enum(ALARM_CATEGORIES).optional(),
          since: z.coerce.number().int().nonnegative().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
        }),
      },
      handler: async ({ query }) => {
        const ids = await deps.data.queries.alarmIds({
          status: query.status,
          limit: query.limit,
          ...(query.level !== undefined ? { level: query.level as 1 | 2 | 3 } : {}),
          ...(query.grid ? { grid: query.grid } : {}),
          ...(query.category ? { category: query.category } : {}),
          ...(query.since !== undefined ? { since: query.since } : {}),
        });
        const s = site();
        const now = deps.clock.now();
        const alarms = (await Promise.all(ids.map((id) => deps.store.alarms.get(id)))).filter((a): a is StoredAlarm => a !== undefined);
        return {
          now,
          cursor: deps.store.writer.last('alarm_history'),
          alarms: alarms.map((a) => alarmView(a, s, now)),
          grids: [...s.grids].map(([code, name]) => ({ code, name })),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/alarms/:id',
      allow: 'read',
      kind: 'api',
      summary: 'One alarm: evidence timeline, history (who, when), place and grid, linked cameras, commands, county write-back',
      schema: { params: idParams, querystring: emptyQuery },
      handler: async ({ params }) => {
        const a = await deps.store.alarms.get(params.id);
        if (!a) throw new RequestError(404, 'not_found', `no alarm ${params.id}`);
        const s = site();
        const now = deps.clock.now();
        const events = (await Promise.all(a.evidence.slice(-100).map((id) => deps.store.events.byId(id)))).filter((e): e is StoredEvent => e !== undefined);
        const zones = events.flatMap((e) => (e.kind === 'zone_alarm' ? [e.attrs.zone] : []));
        const history = await deps.store.alarms.history(a.id);
        const commands = (await Promise.all((await deps.data.queries.commandIdsForAlarm(a.id)).map((id) => deps.store.commands.get(id)))).filter(Boolean);
        const positions = await deps.data.plan.positions();
        const planInfo = await deps.data.plan.info();
        const device = a.deviceId ? s.devices.get(a.deviceId) : undefined;
        return {
          now,
          alarm: alarmView(a, s, now),
          history,
          evidence: events.map((e) => ({
            id: e.id,
            seq: e.seq,
            deviceId: e.deviceId,
            deviceName: s.deviceName(e.deviceId),
            kind: e.kind,
            active: e.active,
            attrs: e.attrs,
            source: e.source ?? null,
            receivedAt: e.receivedAt,
            deviceTime: e.deviceTime,
            clockTrusted: e.clockTrusted,
          })),
          snapshots: a.snapshots.map((id) => ({ id, url: `/api/alarms/${encodeURIComponent(a.id)}/snapshots/${encodeURIComponent(id)}` })),
          linkedCameras: s.linkedCameras(a.deviceId, zones),
          commands,
          deviceCommands: device ? { id: device.id, name: device.name, kind: device.kind, commands: panelCommands(device) } : null,
          county: { status: a.countyStatus, history: history.filter((h) => h.action === 'county_status' || h.actor === 'county') },
          plan: planInfo ? { ...planInfo, position: positions.find((p) => p.deviceId === a.deviceId) ?? null } : null,
        };
      },
    }),
    route({
      method: 'POST',
      url: '/alarms/:id/actions',
      allow: 'handleAlarms',
      kind: 'api',
      summary: '受理 / 处置 (with a note) / 办结 / 误报 / 上报 / note: recorded with who and when, audited',
      schema: {
        params: idParams,
        body: z
          .object({ action: z.enum(PANEL_ACTIONS), note: z.string().trim().max(500).optional() })
          .refine((b) => !(b.action === 'dispatch' || b.action === 'note' || b.action === 'false_alarm') || (b.note?.length ?? 0) > 0, {
            message: '处置, 误报 and notes need a note saying what was done',
            path: ['note'],
          }),
      },
      handler: async ({ params, body, session }) => {
        const who = session!.user.username;
        let a: Alarm;
        try {
          a = await deps.store.alarms.act(params.id, body.action, who, body.note || undefined);
        } catch (err) {
          if (err instanceof AlarmTransitionError) {
            await auditAs(deps, session, `alarm.${body.action}`, params.id, `refused: ${err.message}`);
            throw new RequestError(409, 'transition', err.message, { status: err.status });
          }
          if (/does not exist/.test((err as Error).message)) throw new RequestError(404, 'not_found', `no alarm ${params.id}`);
          throw err;
        }
        await auditAs(deps, session, `alarm.${body.action}`, params.id, 'ok', { to: a.status, ...(body.note ? { note: body.note } : {}) });
        void hub.pollAlarms();
        return { alarm: alarmView(a as StoredAlarm, site(), deps.clock.now()) };
      },
    }),
    route({
      method: 'GET',
      url: '/alarms/:id/snapshots/:snapshotId',
      allow: 'read',
      kind: 'api',
      summary: 'A snapshot that is evidence of this alarm (a snapshot id alone opens nothing)',
      schema: { params: z.object({ id: z.string().min(1).max(64), snapshotId: z.string().min(1).max(64) }), querystring: emptyQuery },
      handler: async ({ params, reply }) => {
        const a = await deps.store.alarms.get(params.id);
        const snap = a?.snapshots.includes(params.snapshotId) ? await deps.snapshots?.get(params.snapshotId) : null;
        if (!snap) throw new RequestError(404, 'not_found', `no snapshot ${params.snapshotId} for alarm ${params.id}`);
        return reply.type(snap.mime).header('cache-control', 'private, max-age=3600').send(snap.data);
      },
    }),
  ];
}
