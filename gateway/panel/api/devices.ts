import { z } from 'zod';
import type { DeviceConfig } from '../../../config/schema.ts';
import type { CommandAction } from '../../core/command.ts';
import type { DeviceHealth } from '../../core/driver.ts';
import { auditAs, type PanelDeps } from '../deps.ts';
import { emptyQuery, RequestError, route, type RouteDef } from '../route-table.ts';
import { SiteIndex } from '../site-index.ts';
import { serviceShare } from '../../core/uptime.ts';

const idParams = z.object({ id: z.string().min(1).max(64) });
const DAY = 86_400_000;

/** What the panel offers per device kind: door unlock, arm/disarm, siren off. */
export function panelCommands(d: DeviceConfig): string[] {
  if (d.kind === 'access_controller') return ['unlock'];
  if (d.kind === 'alarm_panel') return ['arm', 'disarm'];
  if (d.kind === 'siren') return ['siren_off'];
  return [];
}

const UNKNOWN: Omit<DeviceHealth, 'deviceId'> = { reachable: null, eventChannel: 'n/a', lastSeen: null };

/** Devices at a glance (state, last seen, uptime), one device in detail, and the commands guards may send. */
export function deviceRoutes(deps: PanelDeps): RouteDef[] {
  let uptimeCache: { at: number; values: Map<string, number | null> } | null = null;

  /** Share of the last 24 h in service (null: not observed), every device from one read of the transitions. */
  async function uptimes(ids: readonly string[]): Promise<Map<string, number | null>> {
    const now = deps.clock.now();
    if (uptimeCache && now - uptimeCache.at < 30_000 && ids.every((id) => uptimeCache!.values.has(id))) return uptimeCache.values;
    const changes = await deps.data.queries.serviceChanges(now - DAY, ids);
    const values = new Map(ids.map((id) => [id, serviceShare(changes.get(id) ?? [], now - DAY, now).ratio]));
    uptimeCache = { at: now, values };
    return values;
  }

  async function view(d: DeviceConfig, health: Map<string, DeviceHealth>, up: Map<string, number | null>, site: SiteIndex) {
    const h = health.get(d.id) ?? { deviceId: d.id, ...UNKNOWN };
    const m = deps.maintenance?.list().find((x) => x.deviceId === d.id) ?? null;
    const last = await deps.data.queries.lastEvent(d.id);
    return {
      id: d.id,
      name: d.name,
      kind: d.kind,
      grid: d.grid,
      gridName: site.grids.get(d.grid) ?? d.grid,
      place: d.place,
      gbId: d.gbId ?? null,
      enabled: d.enabled,
      health: { reachable: h.reachable, eventChannel: h.eventChannel, lastSeen: h.lastSeen ?? last?.at ?? null, detail: h.detail ?? null },
      status: !d.enabled
        ? 'disabled'
        : h.reachable === true
          ? h.eventChannel === 'lost'
            ? 'degraded'
            : 'online'
          : h.reachable === false
            ? 'offline'
            : 'unknown',
      lastEvent: last ? { kind: last.kind, active: last.active, at: last.at } : null,
      // No driver reports on it and it never had an outage on record: its uptime is not known.
      uptime24h: up.get(d.id) ?? null,
      state: deps.deviceState(d.id),
      commands: panelCommands(d),
      maintenance: m ? { source: m.source, actor: m.actor, reason: m.reason, since: m.since, until: m.until } : null,
    };
  }

  return [
    route({
      method: 'GET',
      url: '/devices',
      allow: 'read',
      kind: 'api',
      summary: 'Every device: online/offline/event channel, last seen, last event, uptime over 24 h, commands it takes',
      schema: { querystring: emptyQuery },
      handler: async () => {
        const site = new SiteIndex(deps.config());
        const health = new Map(deps.health().map((h) => [h.deviceId, h]));
        const devices = deps.config().devices;
        const up = await uptimes(devices.map((d) => d.id));
        return {
          now: deps.clock.now(),
          grids: [...site.grids].map(([code, name]) => ({ code, name })),
          devices: await Promise.all(devices.map((d) => view(d, health, up, site))),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/devices/:id',
      allow: 'read',
      kind: 'api',
      summary: 'One device: its state, its last events and commands, uptime over 24 h and 7 days',
      schema: { params: idParams, querystring: emptyQuery },
      handler: async ({ params }) => {
        const site = new SiteIndex(deps.config());
        const d = site.devices.get(params.id);
        if (!d) throw new RequestError(404, 'not_found', `no device ${params.id} in the site config`);
        const now = deps.clock.now();
        const health = new Map(deps.health().map((h) => [h.deviceId, h]));
        const changes = (await deps.data.queries.serviceChanges(now - 7 * DAY, [d.id])).get(d.id) ?? [];
        const week = serviceShare(changes, now - 7 * DAY, now).ratio;
        const day = serviceShare(changes, now - DAY, now).ratio;
        return {
          device: await view(d, health, new Map([[d.id, day]]), site),
          uptime7d: week,
          linkedCameras: site.linkedCameras(d.id),
          events: await deps.data.queries.recentEvents(d.id, 20),
          commandsRun: await deps.store.commands.recent(20, d.id),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/devices/:id/snapshot',
      allow: 'read',
      kind: 'api',
      summary: "A camera's current snapshot",
      schema: { params: idParams, querystring: emptyQuery },
      handler: async ({ params, reply, session }) => {
        const d = deps.config().devices.find((x) => x.id === params.id);
        if (!d || d.kind !== 'onvif_camera') throw new RequestError(404, 'not_found', `${params.id} is not a camera of this site`);
        const snap = await deps.snapshots?.current?.(params.id, session!.user.username);
        if (!snap) throw new RequestError(503, 'no_snapshot', 'no snapshot available for this camera now');
        return reply.type(snap.mime).header('cache-control', 'no-store').send(snap.data);
      },
    }),
    route({
      method: 'POST',
      url: '/devices/:id/maintenance',
      allow: 'maintenance',
      kind: 'api',
      summary: 'Put a device into maintenance (its events are stored but raise no alarms) for a while, or take it out; with a reason',
      schema: {
        params: idParams,
        body: z.object({
          on: z.boolean(),
          reason: z.string().trim().min(2).max(200),
          minutes: z
            .number()
            .int()
            .min(1)
            .max(7 * 24 * 60)
            .optional(),
        }),
      },
      handler: async ({ params, body, session }) => {
        const d = deps.config().devices.find((x) => x.id === params.id);
        if (!d) throw new RequestError(404, 'not_found', `no device ${params.id} in the site config`);
        if (!deps.maintenance) throw new RequestError(503, 'unavailable', 'maintenance needs the detection rules, which are not running');
        await deps.maintenance.set(d.id, body.on, session!.user.username, body.reason, body.minutes);
        return { maintenance: deps.maintenance.list().find((x) => x.deviceId === d.id) ?? null };
      },
    }),
    route({
      method: 'POST',
      url: '/devices/:id/commands',
      allow: 'commandDevices',
      kind: 'api',
      summary: 'Door unlock (confirmed, with a reason), arm/disarm a panel, siren off: through the command runner, audited',
      schema: {
        params: idParams,
        body: z.object({
          action: z.enum(['unlock', 'arm', 'disarm', 'siren_off']),
          reason: z.string().trim().max(200).default(''),
          confirm: z.boolean().default(false),
          mode: z.enum(['away', 'home', 'night']).optional(),
          alarmId: z.string().max(64).optional(),
        }),
      },
      handler: async ({ params, body, session }) => {
        const d = deps.config().devices.find((x) => x.id === params.id);
        if (!d) throw new RequestError(404, 'not_found', `no device ${params.id} in the site config`);
        if (!panelCommands(d).includes(body.action)) throw new RequestError(400, 'not_supported', `${d.name} (${d.kind}) does not take ${body.action}`);
        if (body.action === 'unlock') {
          if (!body.confirm) throw new RequestError(400, 'confirm', 'a door unlock must be confirmed');
          if (body.reason.length < 2) throw new RequestError(400, 'reason', 'a door unlock needs a reason (开门原因)');
        }
        if (body.action === 'arm' && !body.mode) throw new RequestError(400, 'mode', 'arm needs a mode: away, home or night');
        const map: Record<typeof body.action, { action: CommandAction; params: Record<string, unknown>; ttlMs: number }> = {
          unlock: { action: 'unlock', params: { seconds: 5 }, ttlMs: 30_000 },
          arm: { action: 'arm', params: { mode: body.mode }, ttlMs: 60_000 },
          disarm: { action: 'disarm', params: {}, ttlMs: 60_000 },
          siren_off: { action: 'siren', params: { on: false }, ttlMs: 60_000 },
        };
        const c = map[body.action];
        const cmd = await deps.commands.run({
          deviceId: d.id,
          action: c.action,
          params: c.params,
          requestedBy: session!.user.username,
          reason: body.reason || '面板操作 (panel)',
          alarmId: body.alarmId ?? null,
          ttlMs: c.ttlMs,
        });
        if (body.alarmId) await auditAs(deps, session, 'alarm.command', body.alarmId, cmd.status, { commandId: cmd.id, deviceId: d.id, action: c.action });
        return { command: cmd };
      },
    }),
  ];
}
