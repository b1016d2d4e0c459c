import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authRoutes, tokenHash } from './api/auth.ts';
import { alarmRoutes, alarmView } from './api/alarms.ts';
import { SiteIndex } from './site-index.ts';
import { auditRoutes } from './api/audit.ts';
import { deviceRoutes } from './api/devices.ts';
import { liveRoutes } from './api/live.ts';
import { planRoutes } from './api/plan.ts';
import { reportRoutes } from './api/reports.ts';
import { upstreamRoutes, UpstreamMeter } from './api/upstream.ts';
import { userRoutes } from './api/users.ts';
import { parseCookies, SESSION_COOKIE } from './auth/cookies.ts';
import { authHooks } from './auth/guard.ts';
import { LoginGuard } from './auth/login-guard.ts';
import { Sessions } from './auth/sessions.ts';
import type { PanelDeps } from './deps.ts';
import { LiveHub } from './live.ts';
import { pageRoutes } from './pages/pages.ts';
import { loadAssets, staticRoutes } from './pages/static.ts';
import { registerRoutes, RequestError, type AuthHooks, type RouteDef } from './route-table.ts';

/** What the installer API plugin gets to build its routes. */
export interface PanelContext {
  deps: PanelDeps;
  hub: LiveHub;
  sessions: Sessions;
}

export interface PanelHandle {
  hub: LiveHub;
  sessions: Sessions;
  meter: UpstreamMeter;
  /** Every registered route with its full URL and access: the route-table test walks it. */
  routes: readonly RouteDef[];
  /** On a box with no account yet: a new one-time setup link (logged by app.ts); null once an account exists. */
  setupLink(baseUrl: string): Promise<{ url: string; expiresAt: number } | null>;
}

const CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

function errorHandler(deps: PanelDeps) {
  return (err: FastifyError | RequestError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof RequestError) {
      const detail = err.detail && typeof err.detail === 'object' && !Array.isArray(err.detail) ? err.detail : err.detail ? { issues: err.detail } : {};
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...detail });
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: (err as FastifyError).code ?? 'bad_request', message: err.message });
    deps.log.error({ err, url: req.url, method: req.method }, 'panel request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error: the gateway log has the details' });
  };
}

/**
 * The local web panel on the box's HTTP server: pages and static files, the
 * panel API under /api and the installer API under /api/installer, each its
 * own fastify plugin; every route from a table row with its access and schema.
 */
export async function registerPanel(
  app: FastifyInstance,
  deps: PanelDeps,
  installer: { plugin: (scope: FastifyInstance, ctx: PanelContext & { auth: AuthHooks; registry: RouteDef[] }) => Promise<void> },
): Promise<PanelHandle> {
  const cfg = deps.config().panel;
  const sessions = new Sessions(deps.data.sessions, deps.data.users, deps.clock, {
    idleMs: cfg.sessionIdleMinutes * 60_000,
    maxMs: cfg.sessionMaxHours * 3_600_000,
  });
  const guard = new LoginGuard(deps.clock, { perMinute: cfg.loginAttemptsPerMinute, lockAfter: cfg.lockoutAfterFailures, lockMs: cfg.lockoutMinutes * 60_000 });
  const hub = new LiveHub({
    store: deps.store,
    bus: deps.bus,
    health: deps.health,
    log: deps.log,
    stillValid: async (cookie) => (await sessions.resolve(cookie)) !== null,
    alarmView: (a) => alarmView(a, new SiteIndex(deps.config()), deps.clock.now()),
    ...(deps.alarmChanges ? { alarmChanges: deps.alarmChanges } : {}),
  });
  const meter = new UpstreamMeter(deps);
  const auth = authHooks({ sessions, audit: deps.store.audit, log: deps.log });
  const registry: RouteDef[] = [];
  const assets = loadAssets();
  const ctx: PanelContext = { deps, hub, sessions };

  await app.register(async (scope) => {
    scope.setErrorHandler(errorHandler(deps));
    scope.addHook('onSend', async (req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
      if (deps.tls) reply.header('strict-transport-security', 'max-age=31536000');
      if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    });
    scope.addContentTypeParser(['image/png', 'image/jpeg', 'image/webp'], { parseAs: 'buffer', bodyLimit: 8 * 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    registerRoutes(
      scope,
      [...pageRoutes({ siteName: () => deps.config().site.name, language: () => deps.config().panel.language }), ...staticRoutes(assets)],
      auth,
      registry,
    );
    await scope.register(
      async function panelApi(api) {
        const authDeps = { ...deps, sessions, guard };
        registerRoutes(
          api,
          [
            ...authRoutes(authDeps),
            ...userRoutes(authDeps),
            ...auditRoutes(deps),
            ...alarmRoutes(deps, hub),
            ...deviceRoutes(deps),
            ...planRoutes(deps),
            ...upstreamRoutes(deps, meter),
            ...reportRoutes(deps),
            ...liveRoutes(deps, hub),
          ],
          auth,
          registry,
        );
      },
      { prefix: '/api' },
    );
    await scope.register(async (inst) => installer.plugin(inst, { ...ctx, auth, registry }), { prefix: '/api/installer' });
  });

  app.addHook('onReady', async () => {
    hub.start();
    meter.start();
  });
  app.addHook('preClose', async () => {
    hub.stop();
    meter.stop();
  });
  app.addHook('onClose', async () => {
    await deps.data.close().catch(() => {});
  });

  return {
    hub,
    sessions,
    meter,
    routes: registry,
    async setupLink(baseUrl) {
      if ((await deps.data.users.count()) > 0) return null;
      const token = randomBytes(32).toString('base64url');
      const expiresAt = deps.clock.now() + cfg.setupLinkHours * 3_600_000;
      await deps.data.setupTokens.issue(tokenHash(token), expiresAt);
      return { url: `${baseUrl}/setup?token=${token}`, expiresAt };
    },
  };
}

/** The session cookie of a request (for in-process checks). */
export const sessionCookieOf = (req: FastifyRequest) => parseCookies(req.headers.cookie)[SESSION_COOKIE];
