import { ROLES, type Role } from '../../store/users.ts';

export { ROLES, type Role };

/**
 * Who may do what. Every route names one of these; the server checks it on
 * every request (hiding a button is not a check).
 *
 * - installer: devices, config, walk test, coverage, acceptance, site plan
 * - manager: everything operational (alarms, commands), reports, audit, users
 * - guard: alarms, live view, door unlock with a reason, arm/disarm, siren off
 * - viewer: read-only (e.g. the community police officer 社区民警): board, devices, reports, audit
 */
export const ACCESS = {
  /** Alarm board, alarm detail, devices, site plan, upstream status. */
  read: ['installer', 'manager', 'guard', 'viewer'],
  /** 受理 / 处置 / 办结 / 误报 / 上报. */
  handleAlarms: ['manager', 'guard'],
  /** Door unlock, arm/disarm, siren off. */
  commandDevices: ['manager', 'guard'],
  reports: ['manager', 'viewer'],
  audit: ['manager', 'viewer'],
  users: ['manager'],
  /** Put a device into maintenance (its events raise no alarms) or take it out. */
  maintenance: ['installer', 'manager'],
  install: ['installer'],
} as const satisfies Record<string, readonly Role[]>;

export type Access = keyof typeof ACCESS;

/** 'public' routes need no session (login, setup, static files); 'session' any signed-in role. */
export type Allow = Access | 'public' | 'session';

export function allows(allow: Allow, role: Role | null): boolean {
  if (allow === 'public') return true;
  if (role === null) return false;
  if (allow === 'session') return true;
  return (ACCESS[allow] as readonly Role[]).includes(role);
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}
