import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { allows, type Allow } from './auth/roles.ts';
import type { ActiveSession } from './auth/sessions.ts';

/**
 * One row per route: method, URL, the access it needs, zod schemas for what
 * it accepts, and the handler. Routes are registered only through
 * `registerRoutes`, so none can exist without a role check, a CSRF check on
 * state changes, and a schema.
 */
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteContext<B, Q, P> {
  req: FastifyRequest;
  reply: FastifyReply;
  body: B;
  query: Q;
  params: P;
  /** The signed-in session; null only on 'public' routes. */
  session: ActiveSession | null;
}

export interface RouteDef<B = unknown, Q = unknown, P = unknown> {
  method: Method;
  url: string;
  allow: Allow;
  summary: string;
  /** 'page' answers with HTML (sign-in redirect, 403 page); 'api' with JSON. */
  kind: 'api' | 'page';
  schema: { body?: z.ZodType<B>; querystring?: z.ZodType<Q>; params?: z.ZodType<P> };
  /** Raw bodies for these content types (an image upload), up to bodyLimit bytes. */
  bodyLimit?: number;
  handler: (ctx: RouteContext<B, Q, P>) => Promise<unknown>;
}

/** Typed constructor for a row (infers body/query/params from the schemas). */
export function route<B = undefined, Q = Record<string, never>, P = Record<string, never>>(r: RouteDef<B, Q, P>): RouteDef {
  return r as unknown as RouteDef;
}

export const emptyQuery = z.object({});

const ZOD = Symbol('zod');
type Tagged = Record<string, unknown> & { [ZOD]?: z.ZodType };

/** The JSON Schema fastify and swagger see, carrying the zod schema that validates. */
function jsonSchema(s: z.ZodType): Tagged {
  const json = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Tagged;
  delete json.$schema;
  Object.defineProperty(json, ZOD, { value: s, enumerable: false });
  return json;
}

export class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

/** Where a request stands with its session, set by the auth hook. */
declare module 'fastify' {
  interface FastifyRequest {
    panelSession: ActiveSession | null;
  }
}

export interface AuthHooks {
  /** Resolve the session and enforce `allow` and CSRF; answers and returns false when refused. */
  check(req: FastifyRequest, reply: FastifyReply, def: RouteDef): Promise<boolean>;
}

/** Register rows on a fastify instance (inside a plugin: prefixes apply). Returns the full paths, for the route-table test. */
export function registerRoutes(app: FastifyInstance, defs: readonly RouteDef[], auth: AuthHooks, registry: RouteDef[]): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const zs = (schema as Tagged)[ZOD];
    if (!zs) throw new Error(`panel routes validate with zod: a ${httpPart ?? 'request'} schema without one was registered`);
    return (data: unknown) => {
      const r = zs.safeParse(data ?? (httpPart === 'body' ? undefined : {}));
      if (r.success) return { value: r.data };
      const where = httpPart === 'querystring' ? 'query' : (httpPart ?? 'request');
      const lines = r.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
      return { error: new RequestError(400, 'bad_request', lines.join('; '), r.error.issues) };
    };
  });
  for (const def of defs) {
    if (!def.schema || (!def.schema.body && !def.schema.querystring && !def.schema.params)) throw new Error(`${def.method} ${def.url}: a route needs a schema`);
    if (def.method !== 'GET' && !def.schema.body && !def.bodyLimit) throw new Error(`${def.method} ${def.url}: a state-changing route needs a body schema`);
    const prefix = app.prefix;
    registry.push({ ...def, url: `${prefix}${def.url}` });
    const schema: Record<string, unknown> = { summary: def.summary, tags: [def.kind === 'page' ? 'pages' : prefix || '/'] };
    if (def.schema.body) schema.body = jsonSchema(def.schema.body);
    if (def.schema.querystring) schema.querystring = jsonSchema(def.schema.querystring);
    if (def.schema.params) schema.params = jsonSchema(def.schema.params);
    app.route({
      method: def.method,
      url: def.url,
      schema,
      ...(def.bodyLimit ? { bodyLimit: def.bodyLimit } : {}),
      config: { allow: def.allow },
      onRequest: async (req, reply) => {
        if (!(await auth.check(req, reply, def))) return reply;
      },
      handler: async (req, reply) => {
        const out = await def.handler({
          req,
          reply,
          body: req.body,
          query: req.query,
          params: req.params,
          session: req.panelSession,
        });
        if (reply.sent) return reply;
        return out;
      },
    });
  }
}

export { allows };
