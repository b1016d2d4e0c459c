import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS, allows, ROLES, type Role } from '../../../gateway/panel/auth/roles.ts';
import type { User } from '../../../gateway/store/users.ts';
import { Client, setupManager, startPanelApp, userWithRole, type PanelApp } from './helpers.ts';

let p: PanelApp;
const app = () => p.app.http.app;
const users = new Map<Role, User>();

beforeAll(async () => {
  p = await startPanelApp();
  const m = await setupManager(p);
  users.set('manager', (await p.app.panel.sessions.resolve(/sw_session=(.*)/.exec(m.cookie!)![1]))!.user);
  for (const role of ['installer', 'guard', 'viewer'] as const) {
    const c = await userWithRole(p, m, role);
    users.set(role, (await p.app.panel.sessions.resolve(/sw_session=(.*)/.exec(c.cookie!)![1]))!.user);
  }
});
afterAll(() => p.stop());

/** A client with a fresh session of a role (a route like logout must not end the session other checks use). */
async function as(role: Role): Promise<Client> {
  const { cookie, session } = await p.app.panel.sessions.create(users.get(role)!, { address: '127.0.0.1', userAgent: 'test' });
  const c = new Client(p.base);
  c.cookie = `sw_session=${cookie}`;
  c.csrf = session.csrf;
  return c;
}

/** "METHOD /path" for every route in fastify's printed route tree. */
function servedRoutes(tree: string): string[] {
  const paths: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│]*)[├└]── (\S+) \(([A-Z, ]+)\)/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (depth === 0 ? '' : depth === 1 ? '/' : paths[depth - 1]!) + (depth === 0 ? m[2]! : m[2]!.replace(/^\//, depth === 1 ? '' : '/'));
    paths[depth] = path;
    // fastify prints the wildcard of /ui/* on its own under the root (a radix-tree display quirk): name it by what it serves.
    const shown = path === '/*' && app().hasRoute({ method: 'GET', url: '/ui/*' }) && !app().hasRoute({ method: 'GET', url: '/*' }) ? '/ui/*' : path;
    for (const method of m[3]!.split(', ')) out.push(`${method} ${shown}`);
  }
  return out;
}

const concrete = (url: string) => url.replace(/:[a-zA-Z]+/g, 'no-such-id').replace('*', 'style.css');

async function call(c: Client, method: string, url: string): Promise<number> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (c.cookie) headers.cookie = c.cookie;
  if (method !== 'GET' && c.csrf) headers['x-csrf-token'] = c.csrf;
  const body = method === 'GET' ? undefined : '{}';
  if (body) headers['content-type'] = 'application/json';
  const ac = new AbortController();
  const res = await fetch(p.base + concrete(url), { method, headers, body, redirect: 'manual', signal: ac.signal });
  ac.abort(); // the event stream stays open otherwise
  return res.status;
}

describe('the route table: every route names its access, and the server enforces it', () => {
  it('has a row with a schema for every panel and installer route fastify serves', () => {
    const table = p.app.panel.routes;
    expect(table.length).toBeGreaterThan(60);
    for (const r of table) {
      expect(r.schema.body ?? r.schema.querystring ?? r.schema.params, `${r.method} ${r.url}`).toBeDefined();
      expect(['public', 'session', ...Object.keys(ACCESS)]).toContain(r.allow);
    }
    const listed = new Set(table.map((r) => `${r.method} ${r.url}`));
    const served = servedRoutes(p.app.http.app.printRoutes({ commonPrefix: false })).filter(
      (r) => !/^(HEAD|OPTIONS) /.test(r) && !/ \/(healthz|metrics)$/.test(r) && !/ \/api\/county\//.test(r),
    );
    expect(served.length).toBeGreaterThan(60);
    expect(served.filter((r) => !listed.has(r))).toEqual([]);
  });

  it('answers every route for every role as the table says: 403 when the role may not, never 401/403 when it may', async () => {
    const wrong: string[] = [];
    for (const r of p.app.panel.routes) {
      for (const role of ROLES) {
        const status = await call(await as(role), r.method, r.url);
        const may = allows(r.allow, role);
        if (may ? status === 401 || status === 403 : status !== 403) wrong.push(`${role} ${r.method} ${r.url} (${r.allow}) → ${status}`);
      }
      const anon = await call(new Client(p.base), r.method, r.url);
      const expected = r.allow === 'public' ? anon !== 401 && anon !== 403 : r.kind === 'page' ? anon === 303 : anon === 401;
      if (!expected) wrong.push(`anonymous ${r.method} ${r.url} (${r.allow}) → ${anon}`);
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it('follows the policy: installers install, guards and managers act on alarms and doors, viewers only read', async () => {
    const may = (method: string, url: string) => {
      const r = p.app.panel.routes.find((x) => x.method === method && x.url === url);
      if (!r) throw new Error(`no route ${method} ${url}`);
      return ROLES.filter((role) => allows(r.allow, role)).sort();
    };
    expect(may('GET', '/')).toEqual(['guard', 'installer', 'manager', 'viewer']);
    expect(may('GET', '/api/stream')).toEqual(['guard', 'installer', 'manager', 'viewer']);
    expect(may('POST', '/api/alarms/:id/actions')).toEqual(['guard', 'manager']);
    expect(may('POST', '/api/devices/:id/commands')).toEqual(['guard', 'manager']);
    expect(may('GET', '/api/reports')).toEqual(['manager', 'viewer']);
    expect(may('GET', '/api/audit')).toEqual(['manager', 'viewer']);
    expect(may('POST', '/api/users')).toEqual(['manager']);
    for (const url of ['/installer', '/installer/walk-test', '/installer/acceptance', '/installer/config']) expect(may('GET', url)).toEqual(['installer']);
    for (const [m, url] of [
      ['POST', '/api/installer/devices'],
      ['POST', '/api/installer/config/apply'],
      ['POST', '/api/installer/walk-test'],
      ['PUT', '/api/installer/plan/image'],
      ['POST', '/api/installer/acceptance'],
    ] as const)
      expect(may(m, url)).toEqual(['installer']);
  });

  it('records refused accesses in the audit log', async () => {
    const guard = await as('guard');
    expect(await call(guard, 'GET', '/installer/walk-test')).toBe(403);
    const denied = await p.app.store.audit.list({ actor: 'guard1', action: 'access.denied' });
    expect(denied[0]).toMatchObject({ target: 'GET /installer/walk-test', outcome: 'refused', detail: { role: 'guard', needs: 'install' } });
  });
});
