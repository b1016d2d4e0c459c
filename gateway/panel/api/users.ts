import { z } from 'zod';
import { DuplicateUserError, ROLES } from '../../store/users.ts';
import { hashPassword } from '../auth/passwords.ts';
import { auditAs } from '../deps.ts';
import { emptyQuery, RequestError, route, type RouteDef } from '../route-table.ts';
import { checkPassword, displayNameSchema, passwordSchema, publicUser, usernameSchema, type AuthDeps } from './auth.ts';

const idParams = z.object({ id: z.string().min(1).max(64) });

/** Accounts, managed by managers: real names, roles, disable, reset password, unlock. */
export function userRoutes(deps: AuthDeps): RouteDef[] {
  const { data, sessions } = deps;

  async function otherActiveManagers(exceptId: string): Promise<number> {
    return (await data.users.list()).filter((u) => u.role === 'manager' && !u.disabled && u.id !== exceptId).length;
  }

  return [
    route({
      method: 'GET',
      url: '/users',
      allow: 'users',
      kind: 'api',
      summary: 'Every account',
      schema: { querystring: emptyQuery },
      handler: async () => ({ users: (await data.users.list()).map(publicUser) }),
    }),
    route({
      method: 'POST',
      url: '/users',
      allow: 'users',
      kind: 'api',
      summary: 'Create an account (real name, role, initial password)',
      schema: { body: z.object({ username: usernameSchema, displayName: displayNameSchema, role: z.enum(ROLES), password: passwordSchema }) },
      handler: async ({ body, session, reply }) => {
        checkPassword(body.password, body.username);
        try {
          const u = await data.users.create({
            username: body.username,
            displayName: body.displayName,
            role: body.role,
            passwordHash: await hashPassword(body.password),
            createdBy: session!.user.username,
          });
          await auditAs(deps, session, 'user.create', u.username, 'ok', { role: u.role, displayName: u.displayName });
          reply.code(201);
          return { user: publicUser(u) };
        } catch (err) {
          if (err instanceof DuplicateUserError) throw new RequestError(409, 'duplicate', err.message);
          throw err;
        }
      },
    }),
    route({
      method: 'PUT',
      url: '/users/:id',
      allow: 'users',
      kind: 'api',
      summary: 'Change role, name, disable/enable, or reset the password of an account (its sessions end)',
      schema: {
        params: idParams,
        body: z
          .object({
            role: z.enum(ROLES).optional(),
            displayName: displayNameSchema.optional(),
            disabled: z.boolean().optional(),
            password: passwordSchema.optional(),
          })
          .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
      },
      handler: async ({ params, body, session }) => {
        const u = await data.users.byId(params.id);
        if (!u) throw new RequestError(404, 'not_found', `no account ${params.id}`);
        const demotes = (body.role !== undefined && body.role !== 'manager') || body.disabled === true;
        if (u.role === 'manager' && demotes && (await otherActiveManagers(u.id)) === 0)
          throw new RequestError(409, 'last_manager', 'this is the last active manager: make another manager first');
        if (body.password !== undefined) {
          checkPassword(body.password, u.username);
          await data.users.setPassword(u.id, await hashPassword(body.password));
        }
        await data.users.update(u.id, {
          ...(body.role ? { role: body.role } : {}),
          ...(body.displayName ? { displayName: body.displayName } : {}),
          ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
        });
        if (body.role !== undefined || body.disabled !== undefined || body.password !== undefined) await sessions.endAll(u.id);
        const { password: _pw, ...shown } = body;
        await auditAs(deps, session, 'user.update', u.username, 'ok', { ...shown, ...(body.password !== undefined ? { passwordReset: true } : {}) });
        return { user: publicUser((await data.users.byId(u.id))!) };
      },
    }),
    route({
      method: 'POST',
      url: '/users/:id/unlock',
      allow: 'users',
      kind: 'api',
      summary: 'Lift a lockout after failed sign-ins',
      schema: { params: idParams, body: z.object({}) },
      handler: async ({ params, session }) => {
        const u = await data.users.byId(params.id);
        if (!u) throw new RequestError(404, 'not_found', `no account ${params.id}`);
        await data.users.unlock(u.id);
        await auditAs(deps, session, 'user.unlock', u.username, 'ok');
        return { ok: true };
      },
    }),
  ];
}
