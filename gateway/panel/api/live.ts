import { parseCookies, SESSION_COOKIE } from '../auth/cookies.ts';
import type { PanelDeps } from '../deps.ts';
import type { LiveHub } from '../live.ts';
import { emptyQuery, RequestError, route, type RouteDef } from '../route-table.ts';

/** The server-sent event stream: alarms as they change, stored events, device health, walk-test passes. */
export function liveRoutes(_deps: PanelDeps, hub: LiveHub): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/stream',
      allow: 'read',
      kind: 'api',
      summary: 'Server-sent events: alarm, event, device, walk',
      schema: { querystring: emptyQuery },
      handler: async ({ req, reply, session }) => {
        reply.hijack();
        const ok = hub.attach(reply.raw, session!, parseCookies(req.headers.cookie)[SESSION_COOKIE]);
        if (!ok) {
          reply.raw.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' });
          reply.raw.end(JSON.stringify(new RequestError(503, 'busy', 'too many live connections').message));
        }
      },
    }),
  ];
}
