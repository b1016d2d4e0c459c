import type { PanelDeps } from '../deps.ts';
import { emptyQuery, RequestError, route, type RouteDef } from '../route-table.ts';

/** The site plan as everyone sees it: the image and where devices sit (editing is the installer's). */
export function planRoutes(deps: PanelDeps): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/plan',
      allow: 'read',
      kind: 'api',
      summary: 'The site plan: image facts and device positions',
      schema: { querystring: emptyQuery },
      handler: async () => ({ image: (await deps.data.plan.info()) ?? null, positions: await deps.data.plan.positions() }),
    }),
    route({
      method: 'GET',
      url: '/plan/image',
      allow: 'read',
      kind: 'api',
      summary: 'The site plan image',
      schema: { querystring: emptyQuery.passthrough() },
      handler: async ({ reply }) => {
        const img = await deps.data.plan.image();
        if (!img) throw new RequestError(404, 'not_found', 'no site plan uploaded yet');
        return reply.type(img.mime).header('cache-control', 'private, no-cache').header('content-security-policy', "default-src 'none'").send(img.image);
      },
    }),
  ];
}
