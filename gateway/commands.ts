import type { Logger } from 'pino';
import type { Clock } from './core/clock.ts';
import type { Command, CommandAction } from './core/command.ts';
import type { Driver } from './core/driver.ts';
import { uuidv7 } from './core/ids.ts';
import type { Store } from './store/store.ts';

export interface CommandRequest {
  deviceId: string;
  action: CommandAction;
  params?: Record<string, unknown>;
  requestedBy: string; // a user name, or 'rule:<id>'
  reason: string;
  alarmId?: string | null;
  /** How long the command may wait for the device; after that it must never run. */
  ttlMs: number;
}

/**
 * Runs a command through its driver and keeps the record: the command row
 * (pending → sent → succeeded / failed / expired / timed_out) and an audit
 * entry for the request and one for the outcome — who, when, why, result.
 */
export class Commands {
  constructor(private readonly o: { store: Store; driverFor: (deviceId: string) => Driver | undefined; clock: Clock; log: Logger }) {}

  async run(req: CommandRequest): Promise<Command> {
    const cmd = await this.request(req, this.o.clock.now());
    const { store } = this.o;
    const driver = this.o.driverFor(req.deviceId);
    let status: Command['status'];
    let detail: string | null;
    let snapshotId: string | undefined;
    if (!driver) {
      status = 'failed';
      detail = `no driver handles ${req.deviceId}`;
    } else {
      await store.commands.update(cmd.id, 'sent', null, this.o.clock.now());
      try {
        const outcome = await driver.execute(cmd);
        status = outcome.status;
        detail = outcome.detail ?? null;
        snapshotId = outcome.snapshotId;
      } catch (err) {
        status = 'failed';
        detail = (err as Error).message;
      }
    }
    const at = this.o.clock.now();
    await store.commands.update(cmd.id, status, detail, at);
    await store.audit.record({
      actor: req.requestedBy,
      action: `command.${req.action}`,
      target: req.deviceId,
      outcome: detail ? `${status}: ${detail}` : status,
      detail: { commandId: cmd.id },
    });
    this.o.log.info({ commandId: cmd.id, deviceId: req.deviceId, action: req.action, by: req.requestedBy, status, detail }, 'command finished');
    return { ...cmd, status, outcome: detail, completedAt: at, ...(snapshotId !== undefined ? { snapshotId } : {}) };
  }

  /**
   * A command that waited for its device and expired before it could be sent (linkage for a device that was
   * away): recorded like any other — the row and both audit entries — and never sent.
   */
  async expireUnsent(req: CommandRequest, requestedAt: number, detail: string): Promise<void> {
    const cmd = await this.request(req, requestedAt);
    await this.o.store.commands.update(cmd.id, 'expired', detail, this.o.clock.now());
    await this.o.store.audit.record({
      actor: req.requestedBy,
      action: `command.${req.action}`,
      target: req.deviceId,
      outcome: `expired: ${detail}`,
      detail: { commandId: cmd.id },
    });
  }

  /** The command row and the audit entry of the request, as of `at`. */
  private async request(req: CommandRequest, at: number): Promise<Command> {
    const cmd: Command = {
      id: uuidv7(at),
      deviceId: req.deviceId,
      action: req.action,
      params: req.params ?? {},
      requestedBy: req.requestedBy,
      reason: req.reason,
      alarmId: req.alarmId ?? null,
      createdAt: at,
      expiresAt: at + req.ttlMs,
      status: 'pending',
      outcome: null,
      completedAt: null,
    };
    await this.o.store.commands.insert(cmd);
    await this.o.store.audit.record({
      at,
      actor: req.requestedBy,
      action: `command.${req.action}`,
      target: req.deviceId,
      outcome: 'requested',
      detail: { commandId: cmd.id, reason: req.reason, params: cmd.params, expiresAt: cmd.expiresAt },
    });
    return cmd;
  }
}
