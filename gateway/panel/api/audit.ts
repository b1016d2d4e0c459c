import { z } from 'zod';
import type { PanelDeps } from '../deps.ts';
import { route, type RouteDef } from '../route-table.ts';

/** The audit log: logins, failed logins, commands, config changes, alarm transitions, refused accesses. */
export function auditRoutes(deps: PanelDeps): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/audit',
      allow: 'audit',
      kind: 'api',
      summary: 'Audit entries, newest first; page with `before` (a seq)',
      schema: {
        querystring: z.object({
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          actor: z.string().max(64).optional(),
          action: z.string().max(64).optional(),
        }),
      },
      handler: async ({ query }) => {
        const entries = await deps.store.audit.list({
          limit: query.limit,
          ...(query.before ? { before: query.before } : {}),
          ...(query.actor ? { actor: query.actor } : {}),
          ...(query.action ? { action: query.action } : {}),
        });
        return { entries, next: entries.length === query.limit ? entries[entries.length - 1]!.seq : null };
      },
    }),
  ];
}
