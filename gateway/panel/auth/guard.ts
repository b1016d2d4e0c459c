import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuditStore } from '../../store/audit.ts';
import { allows } from './roles.ts';
import { parseCookies, SESSION_COOKIE } from './cookies.ts';
import { Sessions } from './sessions.ts';
import type { AuthHooks, RouteDef } from '../route-table.ts';
import { forbiddenPage } from '../pages/forbidden.ts';

/** The request's own origin, from what the client connected to. */
function ownOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? ''}`;
}

/**
 * A state-changing request must come from the panel itself: a browser sends
 * Origin (and Sec-Fetch-Site) on every cross-origin POST, so one naming
 * another site is refused before anything else. Clients without either
 * (curl, scripts) still need the session's CSRF token on every non-public route.
 */
export function crossSite(req: FastifyRequest): string | null {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null' && origin !== ownOrigin(req)) return `Origin ${origin} is not this panel`;
  if (origin === 'null') return 'an opaque (null) Origin';
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `Sec-Fetch-Site: ${site}`;
  return null;
}

export function authHooks(o: { sessions: Sessions; audit: AuditStore; log: Logger }): AuthHooks {
  return {
    async check(req: FastifyRequest, reply: FastifyReply, def: RouteDef): Promise<boolean> {
      const session = await o.sessions.resolve(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
      req.panelSession = session;
      const changes = req.method !== 'GET' && req.method !== 'HEAD';
      if (changes) {
        const why = crossSite(req);
        if (why) {
          o.log.warn({ url: req.url, why, address: req.ip }, 'refused a cross-site request');
          await reply.code(403).send({ error: 'cross_site', message: `refused: ${why}` });
          return false;
        }
      }
      if (def.allow === 'public') return true;
      if (!session) {
        if (def.kind === 'page') await reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
        else await reply.code(401).send({ error: 'unauthenticated', message: 'sign in first' });
        return false;
      }
      if (!allows(def.allow, session.user.role)) {
        await o.audit
          .record({
            actor: session.user.username,
            action: 'access.denied',
            target: `${req.method} ${req.url}`.slice(0, 200),
            outcome: 'refused',
            detail: { role: session.user.role, needs: def.allow },
          })
          .catch((err: Error) => o.log.error({ err }, 'could not record a refused access'));
        if (def.kind === 'page') await reply.code(403).type('text/html; charset=utf-8').send(forbiddenPage(session.user.role, def.allow));
        else await reply.code(403).send({ error: 'forbidden', message: `role ${session.user.role} may not do this (needs ${def.allow})` });
        return false;
      }
      if (changes && !Sessions.csrfMatches(session, req.headers['x-csrf-token'] as string | undefined)) {
        await reply.code(403).send({ error: 'csrf', message: 'missing or wrong X-CSRF-Token header: reload the page' });
        return false;
      }
      return true;
    },
  };
}
