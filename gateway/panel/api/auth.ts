import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DuplicateUserError, type User } from '../../store/users.ts';
import { clearedSessionCookie, sessionCookie } from '../auth/cookies.ts';
import type { LoginGuard } from '../auth/login-guard.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/passwords.ts';
import { ACCESS, allows, type Access } from '../auth/roles.ts';
import type { ActiveSession, Sessions } from '../auth/sessions.ts';
import { auditAs, type PanelDeps } from '../deps.ts';
import { emptyQuery, RequestError, route, type RouteDef } from '../route-table.ts';

export const usernameSchema = z
  .string()
  .trim()
  .regex(/^[\p{L}\p{N}._-]{2,32}$/u, 'a user name is 2..32 letters, digits, ".", "_" or "-"');
export const displayNameSchema = z.string().trim().min(1).max(32);
export const passwordSchema = z.string().min(1).max(256);

const PASSWORD_MESSAGES: Record<NonNullable<ReturnType<typeof passwordProblem>>, string> = {
  too_short: 'the password needs at least 10 characters',
  too_long: 'the password may have at most 256 characters',
  like_username: 'the password must not contain the user name',
  too_common: 'this password is too easy to guess',
};

export function checkPassword(password: string, username: string): void {
  const p = passwordProblem(password, username);
  if (p) throw new RequestError(400, `password_${p}`, PASSWORD_MESSAGES[p]);
}

export const publicUser = (u: User) => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  disabled: u.disabled,
  lockedUntil: u.lockedUntil,
  lastLoginAt: u.lastLoginAt,
  createdAt: u.createdAt,
  createdBy: u.createdBy,
});

export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

export interface AuthDeps extends PanelDeps {
  sessions: Sessions;
  guard: LoginGuard;
}

function me(deps: PanelDeps, s: ActiveSession) {
  const cfg = deps.config();
  const access = Object.fromEntries((Object.keys(ACCESS) as Access[]).map((a) => [a, allows(a, s.user.role)]));
  return {
    user: publicUser(s.user),
    csrf: s.csrf,
    access,
    serverNow: deps.clock.now(),
    language: cfg.panel.language,
    site: { name: cfg.site.name, boxId: cfg.site.boxId, kind: cfg.site.kind, timezone: cfg.site.timezone },
    version: deps.version,
  };
}

const meta = (req: { ip: string; headers: Record<string, unknown> }) => ({
  address: req.ip,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
});

/** Sign in, sign out, who am I, first-run setup, change my password. */
export function authRoutes(deps: AuthDeps): RouteDef[] {
  const { data, guard, sessions, clock } = deps;

  async function startSession(user: User, req: Parameters<RouteDef['handler']>[0]['req'], reply: Parameters<RouteDef['handler']>[0]['reply']) {
    const { cookie, session } = await sessions.create(user, meta(req));
    reply.header('set-cookie', sessionCookie(cookie, deps.tls));
    return me(deps, session);
  }

  return [
    route({
      method: 'GET',
      url: '/status',
      allow: 'public',
      kind: 'api',
      summary: 'What the sign-in page needs: whether the first account is still to be created, the site name, the language',
      schema: { querystring: emptyQuery },
      handler: async ({ session }) => {
        const cfg = deps.config();
        return { setupNeeded: (await data.users.count()) === 0, signedIn: session !== null, siteName: cfg.site.name, language: cfg.panel.language };
      },
    }),
    route({
      method: 'POST',
      url: '/login',
      allow: 'public',
      kind: 'api',
      summary: 'Sign in: rate-limited per address, accounts lock after repeated failures',
      schema: { body: z.object({ username: z.string().trim().min(1).max(64), password: passwordSchema }) },
      handler: async ({ body, req, reply }) => {
        const admitted = guard.admit(req.ip);
        if (!admitted.ok) {
          deps.log.warn({ address: req.ip }, 'login rate limit reached for an address');
          reply.header('retry-after', Math.ceil(admitted.retryAfterMs / 1000));
          throw new RequestError(429, 'rate_limited', 'too many sign-in attempts from this address: wait a minute', {
            retryAfterSeconds: Math.ceil(admitted.retryAfterMs / 1000),
          });
        }
        const now = clock.now();
        const found = await data.users.forLogin(body.username);
        const actor = body.username.slice(0, 64);
        const locked = found
          ? found.user.lockedUntil && found.user.lockedUntil > now
            ? found.user.lockedUntil
            : null
          : guard.unknownLockedUntil(body.username);
        if (locked) {
          await deps.store.audit.record({
            actor,
            action: 'login_failed',
            target: actor,
            outcome: 'refused: locked',
            detail: { address: req.ip, lockedUntil: locked },
          });
          throw new RequestError(423, 'locked', 'this account is locked after too many failed sign-ins: try again later', { lockedUntil: locked });
        }
        const ok = await verifyPassword(found?.passwordHash ?? null, body.password);
        if (!ok || !found) {
          const state = found ? await data.users.loginFailed(found.user.id, guard.lockAfter, now + guard.lockMs) : guard.unknownFailed(body.username);
          await deps.store.audit.record({
            actor,
            action: 'login_failed',
            target: actor,
            outcome: state.lockedUntil ? 'refused: wrong password, now locked' : 'refused: wrong user name or password',
            detail: { address: req.ip, failures: state.failedLogins },
          });
          if (state.lockedUntil)
            throw new RequestError(423, 'locked', 'too many failed sign-ins: this account is locked for a while', { lockedUntil: state.lockedUntil });
          throw new RequestError(401, 'bad_credentials', 'wrong user name or password', { attemptsLeft: Math.max(0, guard.lockAfter - state.failedLogins) });
        }
        if (found.user.disabled) {
          await deps.store.audit.record({ actor, action: 'login_failed', target: actor, outcome: 'refused: account disabled', detail: { address: req.ip } });
          throw new RequestError(403, 'disabled', 'this account is disabled: ask a manager');
        }
        await data.users.loginSucceeded(found.user.id);
        await deps.store.audit.record({ actor: found.user.username, action: 'login', target: found.user.username, outcome: 'ok', detail: { address: req.ip } });
        return startSession({ ...found.user, failedLogins: 0, lockedUntil: null }, req, reply);
      },
    }),
    route({
      method: 'POST',
      url: '/logout',
      allow: 'session',
      kind: 'api',
      summary: 'Sign out: the session ends on the server',
      schema: { body: z.object({}).optional() },
      handler: async ({ session, reply }) => {
        await sessions.end(session!.idHash);
        await auditAs(deps, session, 'logout', session!.user.username, 'ok');
        reply.header('set-cookie', clearedSessionCookie(deps.tls));
        return { ok: true };
      },
    }),
    route({
      method: 'GET',
      url: '/me',
      allow: 'session',
      kind: 'api',
      summary: 'The signed-in account, its CSRF token, what its role may do, the server clock',
      schema: { querystring: emptyQuery },
      handler: async ({ session }) => me(deps, session!),
    }),
    route({
      method: 'POST',
      url: '/setup',
      allow: 'public',
      kind: 'api',
      summary: 'First run: create the first account (a manager) with the one-time setup link',
      schema: {
        body: z.object({ token: z.string().min(20).max(100), username: usernameSchema, displayName: displayNameSchema, password: passwordSchema }),
      },
      handler: async ({ body, req, reply }) => {
        const admitted = guard.admit(req.ip);
        if (!admitted.ok) throw new RequestError(429, 'rate_limited', 'too many attempts from this address: wait a minute');
        if ((await data.users.count()) > 0) throw new RequestError(409, 'setup_done', 'the first account exists already: sign in');
        const hash = tokenHash(body.token);
        const t = await data.setupTokens.find(hash);
        const refuse = async (code: string, message: string) => {
          await deps.store.audit.record({
            actor: 'anonymous',
            action: 'setup_failed',
            target: body.username,
            outcome: `refused: ${code}`,
            detail: { address: req.ip },
          });
          throw new RequestError(403, code, message);
        };
        if (!t || t.usedAt !== null) await refuse('setup_token_invalid', 'this setup link is not valid: use the newest link from the gateway log');
        if (t!.expiresAt <= clock.now()) await refuse('setup_token_expired', 'this setup link has expired: restart the gateway for a new one');
        checkPassword(body.password, body.username);
        const passwordHash = await hashPassword(body.password);
        if (!(await data.setupTokens.spend(hash, body.username))) throw new RequestError(409, 'setup_done', 'the setup link was just used');
        let user: User;
        try {
          user = await data.users.create({ username: body.username, displayName: body.displayName, role: 'manager', passwordHash, createdBy: 'setup-link' });
        } catch (err) {
          if (err instanceof DuplicateUserError) throw new RequestError(409, 'duplicate', err.message);
          throw err;
        }
        await deps.store.audit.record({
          actor: user.username,
          action: 'user.create',
          target: user.username,
          outcome: 'ok',
          detail: { role: 'manager', via: 'setup link', address: req.ip },
        });
        deps.log.info({ username: user.username }, 'first account created with the setup link; the link is spent');
        await deps.store.audit.record({
          actor: user.username,
          action: 'login',
          target: user.username,
          outcome: 'ok',
          detail: { address: req.ip, via: 'setup' },
        });
        return startSession(user, req, reply);
      },
    }),
    route({
      method: 'POST',
      url: '/account/password',
      allow: 'session',
      kind: 'api',
      summary: 'Change my password (ends my other sessions)',
      schema: { body: z.object({ current: passwordSchema, next: passwordSchema }) },
      handler: async ({ body, session, req, reply }) => {
        const u = session!.user;
        const found = await data.users.forLogin(u.username);
        if (!found || !(await verifyPassword(found.passwordHash, body.current))) {
          await auditAs(deps, session, 'account.password', u.username, 'refused: wrong current password');
          throw new RequestError(403, 'bad_credentials', 'the current password is wrong');
        }
        checkPassword(body.next, u.username);
        await data.users.setPassword(u.id, await hashPassword(body.next));
        await sessions.endAll(u.id);
        await auditAs(deps, session, 'account.password', u.username, 'ok');
        return startSession(u, req, reply);
      },
    }),
  ];
}
