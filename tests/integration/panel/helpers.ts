import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { App } from '../../../gateway/app.ts';
import type { Clock } from '../../../gateway/core/clock.ts';
import type { Role } from '../../../gateway/store/users.ts';
import { silentLog, tempDir } from '../../helpers/store.ts';

export const PASSWORD = 'correct horse battery staple';

/** A test-only site file: the small demo site as YAML, so config export/import has a file to work on. */
export function smallSiteYaml(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const grid = '320602001001-01';
  const base = { grid, place: { point: 'entrance' } };
  return {
    demo: true,
    site: { boxId: 'sw-320602-010', name: '测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
    grids: [{ code: grid, name: '一网格' }],
    devices: [
      { id: 'panel-1', kind: 'alarm_panel', name: '1号报警主机', ...base, password: 'panel-1-demo', zones: [{ number: 4, name: '东围墙', type: 'perimeter' }] },
      {
        id: 'door-1',
        kind: 'access_controller',
        name: '1栋1单元门',
        ...base,
        place: { building: '1栋', unit: '1单元', point: 'entrance' },
        password: 'door-1-demo',
        door: { name: '1栋1单元' },
      },
      {
        id: 'door-2',
        kind: 'access_controller',
        name: '1栋2单元门',
        ...base,
        place: { building: '1栋', unit: '2单元', point: 'entrance' },
        password: 'door-2-demo',
        door: { name: '1栋2单元' },
      },
      { id: 'sos-1', kind: 'sos_button', name: '501户一键报警', ...base, password: 'sos-1-demo', household: '1栋1单元501' },
      { id: 'siren-1', kind: 'siren', name: '北门声光报警器', grid, place: { point: 'gate' }, password: 'siren-1-demo' },
    ],
    panel: { host: '127.0.0.1', port: 8080 },
    broker: { host: '127.0.0.1', port: 1883 },
    ...extra,
  };
}

export interface PanelApp {
  app: App;
  base: string;
  mqttUrl: string;
  dir: string;
  file: string;
  logs: () => string;
  stop(): Promise<void>;
}

/** The whole gateway with its panel, from a site file in a temp folder, on free ports. */
export async function startPanelApp(
  o: { site?: Record<string, unknown>; clock?: Clock; captureLogs?: boolean; prepare?: (dir: string) => void } = {},
): Promise<PanelApp> {
  const t = tempDir('shouwang-panel-');
  o.prepare?.(t.dir);
  const file = join(t.dir, 'site.yaml');
  const site = o.site ?? smallSiteYaml();
  writeFileSync(file, `# test site\n${stringify(site)}`);
  const { loadConfigOrThrow } = await import('../../../config/load.ts');
  const config = await loadConfigOrThrow(file);
  let text = '';
  const log = o.captureLogs
    ? pino(
        { level: 'info' },
        new Writable({
          write(chunk, _enc, cb) {
            text += chunk.toString();
            cb();
          },
        }),
      )
    : silentLog;
  const app = new App({
    config,
    dataDir: join(t.dir, 'data'),
    log,
    version: 'test',
    httpPort: 0,
    brokerPort: 0,
    configFile: file,
    ...(o.clock ? { clock: o.clock } : {}),
  });
  await app.start();
  return {
    app,
    base: app.http.url,
    mqttUrl: `mqtt://127.0.0.1:${app.broker.addresses[0]!.port}`,
    dir: t.dir,
    file,
    logs: () => text,
    async stop() {
      await app.stop();
      t.cleanup();
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test replies are read loosely, by the expectations
type Reply = any;

/** A browser-like HTTP client: keeps the session cookie and sends the CSRF token on state changes. */
export class Client {
  cookie: string | null = null;
  csrf: string | null = null;
  user: { id: string; username: string; role: Role } | null = null;

  constructor(readonly base: string) {}

  async req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Reply; headers: Headers }> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (method !== 'GET' && this.csrf && !('x-csrf-token' in headers)) h['x-csrf-token'] = this.csrf;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) {
      const v = /sw_session=([^;]*)/.exec(set)?.[1];
      this.cookie = v ? `sw_session=${v}` : null;
    }
    const type = res.headers.get('content-type') ?? '';
    const data = (type.includes('json') ? await res.json() : await res.text()) as Reply;
    if (data && typeof data === 'object' && typeof data.csrf === 'string') {
      this.csrf = data.csrf;
      this.user = data.user;
    }
    return { status: res.status, body: data, headers: res.headers };
  }

  get(path: string) {
    return this.req('GET', path);
  }

  post(path: string, body: unknown = {}, headers?: Record<string, string>) {
    return this.req('POST', path, body, headers);
  }

  async login(username: string, password = PASSWORD) {
    return this.post('/api/login', { username, password });
  }
}

/** Create the first account (a manager) through the setup link; returns its signed-in client. */
export async function setupManager(p: PanelApp, username = 'wangjl'): Promise<Client> {
  const token = new URL(p.app.setupLink!.url).searchParams.get('token');
  const c = new Client(p.base);
  const r = await c.post('/api/setup', { token, username, displayName: '王建立', password: PASSWORD });
  if (r.status !== 200) throw new Error(`setup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return c;
}

/** A signed-in client for a new account of a role, created by the manager through the API. */
export async function userWithRole(p: PanelApp, manager: Client, role: Role, username: string = `${role}1`): Promise<Client> {
  const r = await manager.post('/api/users', { username, displayName: `${role}测试`, role, password: PASSWORD });
  if (r.status !== 201) throw new Error(`create ${role} failed: ${r.status} ${JSON.stringify(r.body)}`);
  const c = new Client(p.base);
  const l = await c.login(username);
  if (l.status !== 200) throw new Error(`login ${role} failed: ${l.status}`);
  return c;
}

/** Listen to the panel's event stream as a signed-in client; `wait` resolves with the first matching message. */
export async function eventStream(c: Client): Promise<{
  wait(topic: string, match?: (data: Reply) => boolean, ms?: number): Promise<Reply>;
  close(): void;
}> {
  const ac = new AbortController();
  const res = await fetch(`${c.base}/api/stream`, { headers: { cookie: c.cookie ?? '', accept: 'text/event-stream' }, signal: ac.signal });
  if (res.status !== 200) throw new Error(`stream refused: ${res.status}`);
  const seen: { topic: string; data: Reply }[] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const topic = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (topic && data) seen.push({ topic, data: JSON.parse(data) });
          for (const w of waiters) w();
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    wait(topic, match = () => true, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = seen.find((s) => s.topic === topic && match(s.data));
          if (!hit) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit.data);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${topic} message within ${ms} ms`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    close: () => ac.abort(),
  };
}

/** Open an alarm the way a rule would (the detect rules are another branch): through the store. */
export function openAlarm(p: PanelApp, over: Record<string, unknown> = {}) {
  const now = Date.now();
  return p.app.store.alarms.open(
    {
      rule: 'door_forced',
      level: 1,
      category: 'public_order',
      title: '门被强行打开',
      deviceId: 'door-1',
      grid: '320602001001-01',
      openedAt: now,
      acceptBy: now + 5 * 60_000,
      closeBy: now + 60 * 60_000,
      evidence: [],
      snapshots: [],
      ...over,
    } as Parameters<typeof p.app.store.alarms.open>[0],
    'rule:door_forced',
  );
}
