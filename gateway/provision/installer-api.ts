import type { FastifyInstance } from 'fastify';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { hashSecret } from '../../config/schema/secret.ts';
import { auditAs } from '../panel/deps.ts';
import type { PanelContext } from '../panel/plugin.ts';
import { emptyQuery, registerRoutes, RequestError, route, type AuthHooks, type RouteDef } from '../panel/route-table.ts';
import { buildAcceptance } from './acceptance.ts';
import type { Applied, ConfigManager } from './config-manager.ts';
import { coverage } from './coverage.ts';
import { connectionQr, connectionSettings, deviceEntry, devicePassword, newDeviceProblems, NewMqttDeviceSchema } from './mqtt-device.ts';
import { imageInfo } from './plan-image.ts';
import { WalkTestService } from './walk-test.ts';
import { DiscoveryService } from './discovery.ts';
import { probeCamera, type ProbeReport } from '../../device-drivers/onvif/index.ts';
import { POINT_TYPES } from '../../config/schema/devices.ts';

export interface InstallerOptions {
  configManager: ConfigManager;
  /** Tests replace the camera probe (the default is the ONVIF driver's probeCamera). */
  probe?: typeof probeCamera;
  /** The broker's listening ports (they change when the MQTT side restarts). */
  mqttPort: () => { port: number; tls: boolean }[];
}

const idParams = z.object({ id: z.string().min(1).max(64) });
const configUpload = z.object({ name: z.string().max(200).default('site.yaml'), text: z.string().min(1).max(2_000_000) });

/** The host a device should connect to: the broker's address, or (listening on all) the one this browser used to reach the box. */
function brokerHost(bound: string, requestHost: string | undefined): string {
  if (bound !== '0.0.0.0' && bound !== '::') return bound;
  const h = (requestHost ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h || '127.0.0.1';
}

function applyError(r: Applied): RequestError | null {
  if (r.ok) return null;
  if ('problems' in r) return new RequestError(400, 'invalid_config', `${r.problems.length} problem(s) in the site file`, { problems: r.problems });
  return new RequestError(500, 'rolled_back', `${r.failedPart} failed to start with the change; the previous config is back in force: ${r.error}`, {
    failedPart: r.failedPart,
  });
}

/**
 * The installer API (its own fastify plugin under /api/installer): walk
 * test, add an MQTT device with generated credentials and a QR code,
 * coverage check, acceptance report, config export/import, site plan editing.
 */
export function installerApi(o: InstallerOptions) {
  return async function installerPlugin(scope: FastifyInstance, ctx: PanelContext & { auth: AuthHooks; registry: RouteDef[] }): Promise<void> {
    const { deps, hub } = ctx;
    const cm = o.configManager;
    const walk = new WalkTestService(deps, hub);
    await walk.init();
    scope.addHook('onClose', async () => walk.stop());

    const discovery = new DiscoveryService({ hub, config: () => cm.current(), now: () => deps.clock.now() });
    const probe = o.probe ?? probeCamera;
    const cameraLogin = z.object({
      host: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9.-]{1,253}$/, 'an IPv4 address or host name'),
      port: z.number().int().min(1).max(65535).default(80),
      username: z.string().min(1).max(64),
      password: z.string().min(1).max(128),
    });
    const reportView = (r: ProbeReport) => ({
      ...r,
      snapshot: r.snapshot
        ? {
            contentType: r.snapshot.contentType,
            bytes: r.snapshot.bytes.length,
            dataUrl: `data:${r.snapshot.contentType};base64,${r.snapshot.bytes.toString('base64')}`,
          }
        : null,
    });

    const needsFile = () => {
      if (!cm.exportText())
        throw new RequestError(409, 'no_site_file', 'the gateway was started without a site file (gw start --config <file>): config changes cannot be saved');
    };

    const routes: RouteDef[] = [
      route({
        method: 'GET',
        url: '/walk-test',
        allow: 'install',
        kind: 'api',
        summary: 'The running (or latest) walk test: every device and whether it has sent an event since the start',
        schema: { querystring: emptyQuery },
        handler: async () => walk.status(),
      }),
      route({
        method: 'POST',
        url: '/walk-test',
        allow: 'install',
        kind: 'api',
        summary: 'Start (all enabled devices, or a list) or finish a walk test',
        schema: { body: z.object({ action: z.enum(['start', 'finish']), devices: z.array(z.string().max(64)).max(2000).optional() }) },
        handler: async ({ body, session }) => {
          if (body.action === 'start') {
            const known = new Set(deps.config().devices.map((d) => d.id));
            const unknown = (body.devices ?? []).filter((d) => !known.has(d));
            if (unknown.length) throw new RequestError(400, 'unknown_device', `not devices of this site: ${unknown.join(', ')}`);
            const t = await walk.start(session!.user.username, body.devices);
            await auditAs(deps, session, 'walk_test.start', t.id, 'ok', { devices: t.devices.length });
          } else {
            await walk.finish();
            await auditAs(deps, session, 'walk_test.finish', null, 'ok');
          }
          return walk.status();
        },
      }),
      route({
        method: 'POST',
        url: '/devices',
        allow: 'install',
        kind: 'api',
        summary: 'Add an MQTT device: the box generates its password (kept only as a hash) and returns the connection settings with a QR code',
        schema: { body: NewMqttDeviceSchema },
        handler: async ({ body, session, req, reply }) => {
          needsFile();
          const cfg = cm.current();
          const problems = newDeviceProblems(body, cfg);
          if (problems.length) throw new RequestError(400, 'invalid_device', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { problems });
          const { entry, id, password } = deviceEntry(body, cfg);
          const applied = await cm.addDevice(entry, session!.user.username);
          const err = applyError(applied);
          if (err) throw err;
          await auditAs(deps, session, 'device.add', id, 'ok', { kind: body.kind, name: body.name, grid: body.grid });
          const settings = connectionSettings(
            id,
            password,
            cm.current(),
            brokerHost(cm.current().broker.host, req.headers.host),
            o.mqttPort(),
            body.kind === 'mqtt_mapped' ? { bridge: body.bridge!, sourceName: body.sourceName! } : undefined,
          );
          reply.code(201);
          return { device: { id, name: body.name, kind: body.kind }, connection: settings, qrSvg: await connectionQr(settings), applied };
        },
      }),
      route({
        method: 'POST',
        url: '/devices/:id/credentials',
        allow: 'install',
        kind: 'api',
        summary: 'Give an MQTT device a new generated password (the old one stops working) and show its settings again',
        schema: { params: idParams, body: z.object({ confirm: z.literal(true) }) },
        handler: async ({ params, session, req }) => {
          needsFile();
          const cfg = cm.current();
          const index = cfg.devices.findIndex((d) => d.id === params.id);
          const d = cfg.devices[index];
          if (!d) throw new RequestError(404, 'not_found', `no device ${params.id}`);
          if (d.kind === 'onvif_camera' || d.kind === 'mqtt_mapped') throw new RequestError(400, 'not_mqtt', `${d.id} has no MQTT password of its own`);
          const doc = parseDocument(cm.exportText()!);
          const password = devicePassword();
          const items = (doc.get('devices') as { items: { get(k: string): unknown }[] }).items;
          const at = items.findIndex((it) => it.get('id') === d.id);
          if (at < 0) throw new RequestError(409, 'not_in_file', `${d.id} is not in the site file as written`);
          doc.setIn(['devices', at, 'password'], doc.createNode({ scrypt: hashSecret(password) }));
          const err = applyError(await cm.apply(doc.toString({ lineWidth: 0 }), session!.user.username));
          if (err) throw err;
          await auditAs(deps, session, 'device.credentials', d.id, 'ok');
          const settings = connectionSettings(d.id, password, cm.current(), brokerHost(cm.current().broker.host, req.headers.host), o.mqttPort());
          return { device: { id: d.id, name: d.name, kind: d.kind }, connection: settings, qrSvg: await connectionQr(settings) };
        },
      }),
      route({
        method: 'GET',
        url: '/coverage',
        allow: 'install',
        kind: 'api',
        summary: 'Camera-point coverage against the rule (5 per 行政村, 2 at each 自然村 main intersection)',
        schema: { querystring: emptyQuery },
        handler: async () => ({
          ...coverage(cm.current(), await deps.data.provisioning.villages()),
          cameraList: cm
            .current()
            .devices.filter((d) => d.kind === 'onvif_camera')
            .map((d) => ({ id: d.id, name: d.name, point: d.place.point, enabled: d.enabled })),
        }),
      }),
      route({
        method: 'PUT',
        url: '/coverage/villages',
        allow: 'install',
        kind: 'api',
        summary: 'Record the natural villages (自然村) and the cameras at their main intersections',
        schema: {
          body: z.object({
            villages: z
              .array(z.object({ id: z.string().max(64).optional(), name: z.string().trim().min(1).max(64), cameras: z.array(z.string().max(64)).max(50) }))
              .max(200),
          }),
        },
        handler: async ({ body, session }) => {
          const cams = new Set(
            cm
              .current()
              .devices.filter((d) => d.kind === 'onvif_camera')
              .map((d) => d.id),
          );
          const bad = body.villages.flatMap((v) => v.cameras.filter((c) => !cams.has(c)).map((c) => `${v.name}: ${c}`));
          if (bad.length) throw new RequestError(400, 'not_a_camera', `not cameras of this site: ${bad.join(', ')}`);
          await deps.data.provisioning.setVillages(body.villages);
          await auditAs(deps, session, 'coverage.villages', null, 'ok', { villages: body.villages.map((v) => v.name) });
          return coverage(cm.current(), await deps.data.provisioning.villages());
        },
      }),
      route({
        method: 'POST',
        url: '/acceptance',
        allow: 'install',
        kind: 'api',
        summary: 'Make an acceptance report now (tests the upstream link) and keep it',
        schema: { body: z.object({ notes: z.string().trim().max(2000).default('') }) },
        handler: async ({ body, session, reply }) => {
          const report = await buildAcceptance(deps, walk, session!.user, body.notes);
          const saved = await deps.data.provisioning.saveAcceptance(session!.user.username, report);
          await auditAs(deps, session, 'acceptance.create', saved.id, report.passed ? 'passed' : 'not passed', report.summary);
          reply.code(201);
          return { id: saved.id, report };
        },
      }),
      route({
        method: 'GET',
        url: '/acceptance',
        allow: 'install',
        kind: 'api',
        summary: 'Acceptance reports made so far',
        schema: { querystring: emptyQuery },
        handler: async () => ({ reports: await deps.data.provisioning.acceptances() }),
      }),
      route({
        method: 'GET',
        url: '/acceptance/:id',
        allow: 'install',
        kind: 'api',
        summary: 'One acceptance report as it was made',
        schema: { params: idParams, querystring: emptyQuery },
        handler: async ({ params }) => {
          const r = await deps.data.provisioning.acceptance(params.id);
          if (!r) throw new RequestError(404, 'not_found', `no acceptance report ${params.id}`);
          return r;
        },
      }),
      route({
        method: 'GET',
        url: '/config/export',
        allow: 'install',
        kind: 'api',
        summary: 'Download the site file as it is in force (secrets stay references or hashes)',
        schema: { querystring: emptyQuery },
        handler: async ({ reply, session }) => {
          needsFile();
          await auditAs(deps, session, 'config.export', cm.file, 'ok');
          return reply
            .type('application/yaml; charset=utf-8')
            .header('content-disposition', `attachment; filename="${cm.current().site.boxId}-site.yaml"`)
            .send(cm.exportText());
        },
      }),
      route({
        method: 'POST',
        url: '/config/check',
        allow: 'install',
        kind: 'api',
        summary: 'Dry run: validate an uploaded site file and show what would change and what would restart',
        schema: { body: configUpload },
        handler: async ({ body }) => {
          const r = await cm.check(body.text, body.name);
          if (!r.ok) return { ok: false, problems: r.problems };
          return { ok: true, diff: r.diff, restarts: r.restarts, restartRequired: r.restartRequired };
        },
      }),
      route({
        method: 'POST',
        url: '/config/apply',
        allow: 'install',
        kind: 'api',
        summary: 'Apply an uploaded site file: restarts the affected parts; rolled back automatically when one fails to start',
        schema: { body: configUpload },
        handler: async ({ body, session }) => {
          needsFile();
          const r = await cm.apply(body.text, session!.user.username, body.name);
          const err = applyError(r);
          if (err) throw err;
          return r;
        },
      }),
      route({
        method: 'GET',
        url: '/config/history',
        allow: 'install',
        kind: 'api',
        summary: 'Config changes made from the panel: who, when, what, outcome',
        schema: { querystring: emptyQuery },
        handler: async () => ({ changes: await deps.data.provisioning.configChanges(), file: cm.file }),
      }),
      route({
        method: 'PUT',
        url: '/plan/image',
        allow: 'install',
        kind: 'api',
        summary: 'Upload the site plan image (PNG, JPEG or WebP, up to 8 MB)',
        bodyLimit: 8 * 1024 * 1024,
        schema: { querystring: emptyQuery },
        handler: async ({ req, session }) => {
          const body = req.body;
          if (!Buffer.isBuffer(body)) throw new RequestError(415, 'unsupported', 'send the image itself with Content-Type image/png, image/jpeg or image/webp');
          const info = imageInfo(body);
          if (!info) throw new RequestError(415, 'unsupported', 'not a PNG, JPEG or WebP image');
          if (info.width < 16 || info.height < 16 || info.width > 16384 || info.height > 16384)
            throw new RequestError(400, 'size', `an image of ${info.width}×${info.height} pixels is not a usable plan`);
          await deps.data.plan.setImage({ mime: info.mime, image: body, width: info.width, height: info.height, updatedBy: session!.user.username });
          await auditAs(deps, session, 'plan.image', null, 'ok', { ...info, bytes: body.length });
          return { image: await deps.data.plan.info() };
        },
      }),
      route({
        method: 'PUT',
        url: '/plan/positions',
        allow: 'install',
        kind: 'api',
        summary: 'Place devices on the plan (x, y as fractions of the image) or take them off',
        schema: {
          body: z.object({
            positions: z
              .array(
                z.object({
                  deviceId: z.string().max(64),
                  x: z.number().min(0).max(1).default(0),
                  y: z.number().min(0).max(1).default(0),
                  remove: z.boolean().optional(),
                }),
              )
              .max(5000),
          }),
        },
        handler: async ({ body, session }) => {
          const known = new Set(cm.current().devices.map((d) => d.id));
          const unknown = body.positions.filter((p) => !known.has(p.deviceId)).map((p) => p.deviceId);
          if (unknown.length) throw new RequestError(400, 'unknown_device', `not devices of this site: ${unknown.join(', ')}`);
          await deps.data.plan.place(body.positions, session!.user.username);
          await auditAs(deps, session, 'plan.positions', null, 'ok', { count: body.positions.length });
          return { positions: await deps.data.plan.positions() };
        },
      }),
      route({
        method: 'POST',
        url: '/discovery',
        allow: 'install',
        kind: 'api',
        summary: 'Start a WS-Discovery scan (unicast addresses or ranges, and/or the multicast group); progress and finds come as live messages',
        schema: {
          body: z.object({
            targets: z.array(z.string().max(40)).max(64).default([]),
            multicast: z.boolean().default(false),
            timeoutMs: z.number().int().min(200).max(30_000).default(3000),
          }),
        },
        handler: async ({ body, session, reply }) => {
          try {
            const scan = discovery.start(session!.user.username, body);
            await auditAs(deps, session, 'discovery.scan', null, 'started', { targets: body.targets, multicast: body.multicast });
            reply.code(202);
            return { scan };
          } catch (err) {
            const m = (err as Error).message;
            throw new RequestError(/already running/.test(m) ? 409 : 400, /already running/.test(m) ? 'busy' : 'bad_target', m);
          }
        },
      }),
      route({
        method: 'GET',
        url: '/discovery',
        allow: 'install',
        kind: 'api',
        summary: 'The running or latest discovery scan and what answered',
        schema: { querystring: emptyQuery },
        handler: async () => ({ scan: discovery.latest() }),
      }),
      route({
        method: 'POST',
        url: '/cameras/probe',
        allow: 'install',
        kind: 'api',
        summary: 'Test a camera: device information, profiles, a snapshot preview, clock offset, event subscription (stops at the first refused login)',
        schema: { body: cameraLogin },
        handler: async ({ body, session }) => {
          const r = await probe({ host: body.host, port: body.port, username: body.username, password: body.password });
          await auditAs(deps, session, 'camera.probe', `${body.host}:${body.port}`, r.ok ? 'ok' : `failed: ${r.problems[0] ?? 'unknown'}`.slice(0, 200));
          return { report: reportView(r) };
        },
      }),
      route({
        method: 'POST',
        url: '/cameras',
        allow: 'install',
        kind: 'api',
        summary: 'Add a tested camera with its grid, place and point type; its password is kept in a 0600 file beside the site file',
        schema: {
          body: cameraLogin.extend({
            id: z
              .string()
              .regex(/^[a-z0-9][a-z0-9_-]{1,63}$/, 'an id is 2..64 of a-z 0-9 - _')
              .optional(),
            name: z.string().trim().min(1).max(64),
            grid: z.string().min(1).max(40),
            place: z.object({ building: z.string().trim().max(32).optional(), unit: z.string().trim().max(32).optional(), point: z.enum(POINT_TYPES) }),
            gbId: z
              .string()
              .regex(/^\d{20}$/, 'a GB/T 28181 id is 20 digits')
              .optional(),
          }),
        },
        handler: async ({ body, session, reply }) => {
          needsFile();
          const cfg = cm.current();
          if (!cfg.grids.some((g) => g.code === body.grid)) throw new RequestError(400, 'invalid_device', `grid: no grid ${body.grid}`);
          const taken = new Set([...cfg.devices.map((d) => d.id), ...cfg.mqttBridges.map((b) => b.id)]);
          let id = body.id;
          if (id && taken.has(id)) throw new RequestError(400, 'invalid_device', `id: ${id} is taken`);
          for (let n = 1; !id; n++) if (!taken.has(`cam-${String(n).padStart(2, '0')}`)) id = `cam-${String(n).padStart(2, '0')}`;
          const dup = cfg.devices.find((d) => d.kind === 'onvif_camera' && d.host === body.host && d.port === body.port);
          if (dup) throw new RequestError(409, 'duplicate', `${dup.name} (${dup.id}) is this camera already`);
          const test = await probe({ host: body.host, port: body.port, username: body.username, password: body.password, events: false });
          if (!test.ok) throw new RequestError(400, 'probe_failed', `the camera test failed: ${test.problems.join('; ')}`, { report: reportView(test) });
          const secret = await cm.writeSecret(`${id}.onvif`, body.password);
          const place = Object.fromEntries(Object.entries(body.place).filter(([, v]) => v !== undefined && v !== ''));
          const entry: Record<string, unknown> = {
            id,
            kind: 'onvif_camera',
            name: body.name,
            grid: body.grid,
            place,
            ...(body.gbId ? { gbId: body.gbId } : {}),
            host: body.host,
            port: body.port,
            username: body.username,
            password: { file: secret },
            ...(test.ptz ? { ptz: true } : {}),
          };
          const applied = await cm.addDevice(entry, session!.user.username);
          const err = applyError(applied);
          if (err) {
            await cm.removeSecret(secret);
            throw err;
          }
          await auditAs(deps, session, 'device.add', id, 'ok', { kind: 'onvif_camera', name: body.name, host: body.host, port: body.port });
          reply.code(201);
          return { device: { id, name: body.name, kind: 'onvif_camera' }, report: reportView(test), applied };
        },
      }),
    ];
    registerRoutes(scope, routes, ctx.auth, ctx.registry);
  };
}
