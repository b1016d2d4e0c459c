import { afterEach, describe, expect, it } from 'vitest';
import { Db } from '../../../gateway/store/db.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { Client, PASSWORD, setupManager, startPanelApp, userWithRole, type PanelApp } from './helpers.ts';

let p: PanelApp | null = null;
afterEach(async () => {
  await p?.stop();
  p = null;
});

const MIN = 60_000;

describe('first run: no default password, a one-time setup link', () => {
  it('logs a setup link with an expiry while no account exists; the link creates one manager once, then is spent', async () => {
    p = await startPanelApp({ captureLogs: true });
    const link = p.app.setupLink!;
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/setup\?token=[A-Za-z0-9_-]{43}$/);
    const logged = p
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.setupLink);
    expect(logged).toMatchObject({ setupLink: link.url, expires: new Date(link.expiresAt).toISOString() });
    expect(link.expiresAt - Date.now()).toBeGreaterThan(23 * 60 * MIN);

    const anon = new Client(p.base);
    expect((await anon.get('/api/status')).body).toMatchObject({ setupNeeded: true });
    // No account can sign in, and no default one exists.
    for (const name of ['admin', 'root', 'installer']) expect((await anon.login(name, 'admin')).status).toBe(401);

    const token = new URL(link.url).searchParams.get('token')!;
    const wrong = await anon.post('/api/setup', { token: `${token.slice(0, -2)}xx`, username: 'wangjl', displayName: '王建立', password: PASSWORD });
    expect(wrong).toMatchObject({ status: 403, body: { error: 'setup_token_invalid' } });
    const weak = await anon.post('/api/setup', { token, username: 'wangjl', displayName: '王建立', password: 'short' });
    expect(weak).toMatchObject({ status: 400, body: { error: 'password_too_short' } });

    const c = new Client(p.base);
    const ok = await c.post('/api/setup', { token, username: 'wangjl', displayName: '王建立', password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ username: 'wangjl', role: 'manager', displayName: '王建立' });
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^sw_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await c.get('/api/me')).body.user.username).toBe('wangjl');

    const again = await new Client(p.base).post('/api/setup', { token, username: 'other', displayName: '某人', password: PASSWORD });
    expect(again).toMatchObject({ status: 409, body: { error: 'setup_done' } });
    expect((await anon.get('/api/status')).body).toMatchObject({ setupNeeded: false });

    // The password is kept only as a scrypt hash; the setup token only as a SHA-256.
    const db = await Db.open(`${p.dir}/data/shouwang.db`, { readonly: true });
    const row = await db.get<{ password_hash: string }>('SELECT password_hash FROM users');
    const tok = await db.all<{ token_hash: string; used_by: string }>('SELECT token_hash, used_by FROM setup_tokens');
    await db.close();
    expect(row!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(row!.password_hash).not.toContain(PASSWORD);
    expect(tok).toEqual([{ token_hash: expect.not.stringContaining(token), used_by: 'wangjl' }]);

    const audit = (await p.app.store.audit.list()).map((e) => `${e.action}:${e.outcome}`);
    expect(audit).toEqual(expect.arrayContaining(['user.create:ok', 'login:ok', 'setup_failed:refused: setup_token_invalid']));
  });

  it('refuses an expired setup link', async () => {
    const clock = new FakeClock(Date.now());
    p = await startPanelApp({ clock });
    const token = new URL(p.app.setupLink!.url).searchParams.get('token')!;
    clock.advance(24 * 60 * MIN + 1);
    const r = await new Client(p.base).post('/api/setup', { token, username: 'wangjl', displayName: '王建立', password: PASSWORD });
    expect(r).toMatchObject({ status: 403, body: { error: 'setup_token_expired' } });
  });

  it('makes no setup link once an account exists', async () => {
    p = await startPanelApp();
    await setupManager(p);
    expect(await p.app.panel.setupLink(p.base)).toBeNull();
  });
});

describe('sign-in: rate limit, lockout, audit', () => {
  it('locks an account after 5 failures in a row, refuses even the right password while locked, and lets it in after 15 minutes', async () => {
    const clock = new FakeClock(Date.now());
    p = await startPanelApp({ clock });
    const manager = await setupManager(p);
    await userWithRole(p, manager, 'guard', 'zhangsan');
    const c = new Client(p.base);
    for (let i = 1; i <= 4; i++)
      expect(await c.login('zhangsan', 'wrong password!')).toMatchObject({ status: 401, body: { error: 'bad_credentials', attemptsLeft: 5 - i } });
    const fifth = await c.login('zhangsan', 'wrong password!');
    expect(fifth).toMatchObject({ status: 423, body: { error: 'locked' } });
    expect(fifth.body.lockedUntil).toBe(clock.now() + 15 * MIN);
    expect(await c.login('zhangsan')).toMatchObject({ status: 423, body: { error: 'locked' } });
    expect(c.cookie).toBeNull();

    clock.advance(61_000); // out of the per-address window
    clock.advance(15 * MIN);
    const ok = await c.login('zhangsan');
    expect(ok.status).toBe(200);
    expect(ok.body.user.role).toBe('guard');

    const audit = await p.app.store.audit.list({ actor: 'zhangsan' });
    const failed = audit.filter((e) => e.action === 'login_failed');
    expect(failed).toHaveLength(6);
    expect(failed.map((e) => e.outcome)).toEqual(
      expect.arrayContaining(['refused: wrong user name or password', 'refused: wrong password, now locked', 'refused: locked']),
    );
    expect(failed[0]!.detail).toMatchObject({ address: '127.0.0.1' });
    expect(audit.filter((e) => e.action === 'login' && e.outcome === 'ok')).toHaveLength(2); // before the lockout, and after it
  });

  it('treats an unknown name the same way (no hint which names exist) and rate-limits an address', async () => {
    const clock = new FakeClock(Date.now());
    p = await startPanelApp({ clock });
    await setupManager(p);
    const c = new Client(p.base);
    for (let i = 1; i <= 4; i++) expect((await c.login('nobody', 'x')).body).toMatchObject({ error: 'bad_credentials', attemptsLeft: 5 - i });
    expect((await c.login('nobody', 'x')).status).toBe(423);
    clock.advance(61_000);
    // 10 attempts a minute per address, then 429 with Retry-After, whatever the name.
    for (let i = 0; i < 10; i++) expect((await c.login(`someone${i}`, 'x')).status).toBe(401);
    const limited = await c.login('wangjl', PASSWORD);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    clock.advance(61_000);
    expect((await c.login('wangjl', PASSWORD)).status).toBe(200);
  });
});

describe('sessions and CSRF', () => {
  it('needs the session’s CSRF token and a same-origin request for every state change', async () => {
    p = await startPanelApp();
    const m = await setupManager(p);
    const body = { username: 'lisi', displayName: '李四', role: 'guard', password: PASSWORD };
    expect(await m.post('/api/users', body, { 'x-csrf-token': '' })).toMatchObject({ status: 403, body: { error: 'csrf' } });
    expect(await m.post('/api/users', body, { 'x-csrf-token': 'forged-token-value' })).toMatchObject({ status: 403, body: { error: 'csrf' } });
    expect(await m.post('/api/users', body, { origin: 'http://evil.example' })).toMatchObject({ status: 403, body: { error: 'cross_site' } });
    expect(await m.post('/api/users', body, { 'sec-fetch-site': 'cross-site' })).toMatchObject({ status: 403, body: { error: 'cross_site' } });
    // A cross-site sign-in attempt is refused before the password is looked at.
    expect(await new Client(p.base).post('/api/login', { username: 'wangjl', password: PASSWORD }, { origin: 'http://evil.example' })).toMatchObject({
      status: 403,
    });
    expect(await m.post('/api/users', body, { origin: p.base })).toMatchObject({ status: 201 });
    expect((await m.get('/api/users')).body.users.map((u: { username: string }) => u.username)).toEqual(['wangjl', 'lisi']);
  });

  it('ends a session on logout, after the idle timeout, and when the account is disabled', async () => {
    const clock = new FakeClock(Date.now());
    p = await startPanelApp({ clock });
    const m = await setupManager(p);
    const guard = await userWithRole(p, m, 'guard', 'zhaoliu');
    expect((await guard.get('/api/alarms')).status).toBe(200);

    const stolen = guard.cookie;
    expect((await guard.post('/api/logout')).status).toBe(200);
    const replay = new Client(p.base);
    replay.cookie = stolen;
    expect((await replay.get('/api/alarms')).status).toBe(401);

    await guard.login('zhaoliu');
    clock.advance(12 * 60 * MIN + 1000);
    expect((await guard.get('/api/alarms')).status).toBe(401);

    await m.login('wangjl');
    await guard.login('zhaoliu');
    const id = guard.user!.id;
    expect((await m.req('PUT', `/api/users/${id}`, { disabled: true })).status).toBe(200);
    expect((await guard.get('/api/alarms')).status).toBe(401);
    expect(await guard.login('zhaoliu')).toMatchObject({ status: 403, body: { error: 'disabled' } });
    // The last manager cannot lock the box out of user management.
    expect(await m.req('PUT', `/api/users/${m.user!.id}`, { role: 'guard' })).toMatchObject({ status: 409, body: { error: 'last_manager' } });
  });

  it('sends pages to sign-in and answers the API with 401 when not signed in', async () => {
    p = await startPanelApp();
    await setupManager(p);
    const anon = new Client(p.base);
    const page = await anon.req('GET', '/devices');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fdevices');
    expect((await anon.get('/api/devices')).status).toBe(401);
    const login = await anon.req('GET', '/login');
    expect(login.status).toBe(200);
    expect(login.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(login.headers.get('x-frame-options')).toBe('DENY');
  });
});
