/**
 * Command: something the box asks a device to do. It carries who asked and
 * why, and an expiry: a door unlock queued during an outage must never run late.
 */
export const COMMAND_ACTIONS = ['arm', 'disarm', 'unlock', 'ptz_preset', 'siren', 'broadcast', 'snapshot'] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

export const COMMAND_STATUSES = ['pending', 'sent', 'succeeded', 'failed', 'expired', 'timed_out'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export interface Command {
  id: string;
  deviceId: string;
  action: CommandAction;
  params: Record<string, unknown>;
  requestedBy: string; // user name or 'rule:<id>'
  reason: string;
  alarmId: string | null;
  createdAt: number;
  expiresAt: number;
  status: CommandStatus;
  outcome: string | null;
  completedAt: number | null;
  /** A finished snapshot command's picture (from its outcome; not stored in the command row). */
  snapshotId?: string;
}

export interface CommandOutcome {
  status: Extract<CommandStatus, 'succeeded' | 'failed' | 'expired' | 'timed_out'>;
  detail?: string;
  /** A snapshot command's picture, stored by the box; an alarm's linkage adds it to the alarm's evidence. */
  snapshotId?: string;
}

export function isExpired(cmd: Pick<Command, 'expiresAt'>, now: number): boolean {
  return now >= cmd.expiresAt;
}
