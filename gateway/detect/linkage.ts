import type { Logger } from 'pino';
import type { LinkageConfig, RuleConfig } from '../../config/schema/rules.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Command, CommandAction } from '../core/command.ts';
import type { CommandRequest } from '../commands.ts';
import type { StoredAlarm } from '../store/alarms.ts';
import type { AlarmPort, CommandPort } from './ports.ts';
import type { Registry } from './registry.ts';

const ACTION_LABELS: Partial<Record<CommandAction, string>> = {
  snapshot: '抓拍',
  ptz_preset: '转到预置位',
  siren: '声光报警',
  broadcast: '广播喊话',
};
const STATUS_LABELS: Record<Command['status'], string> = {
  pending: '等待中',
  sent: '已发送',
  succeeded: '成功',
  failed: '失败',
  expired: '过期未执行',
  timed_out: '超时无应答',
};
/** While a device is away, look again this often (besides being told it is back). */
const RECHECK_MS = 5_000;

export interface LinkageOptions {
  commands: CommandPort;
  alarms: AlarmPort;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** Whether a device is known to be away (offline reported, or its driver has no connection). */
  isAway(deviceId: string): boolean;
  /** Keep the record of a command that expired before it could be sent: a command row and its audit entries. */
  recordUnsent(req: CommandRequest, requestedAt: number, detail: string): Promise<void>;
}

interface Waiting {
  deviceId: string;
  go: () => void;
}

/**
 * Linkage (联动): what devices do when an alarm opens or is confirmed —
 * snapshots from linked cameras as evidence, a PTZ preset, a siren for N
 * seconds, a loudspeaker clip. Each is a Command (expiry, audit) through
 * gateway/commands.ts; its outcome joins the alarm history, a snapshot joins
 * the alarm's snapshots. A command for a device that is away waits for it
 * until its expiry and is then recorded as expired, never sent late.
 */
export class Linkage {
  private readonly waiting = new Set<Waiting>();
  private readonly tasks = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly o: LinkageOptions) {}

  /** Run a rule's linkage for an alarm; `eventAt` is when the triggering event arrived (stale events get none). */
  run(alarm: StoredAlarm, rule: RuleConfig, eventAt: number): void {
    const l = rule.linkage;
    if (!l || this.stopped) return;
    const now = this.o.clock.now();
    const reason = `警情 ${alarm.title}（${alarm.id}）`;
    const base = { requestedBy: `rule:${rule.id}`, reason, alarmId: alarm.id };
    if (now - eventAt > l.ttlSeconds * 1000) {
      this.task(this.history(alarm.id, rule.id, `联动未执行：触发事件已超过 ${l.ttlSeconds} 秒（重启后补录的警情）`));
      return;
    }
    for (const req of this.plan(alarm, l)) this.task(this.step({ ...base, ...req, ttlMs: l.ttlSeconds * 1000 }, rule.id, alarm.id));
  }

  /** A device is back (its device_offline ended): send what waits for it. */
  deviceBack(deviceId: string): void {
    for (const w of [...this.waiting]) if (w.deviceId === deviceId) w.go();
  }

  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  waitingCount(): number {
    return this.waiting.size;
  }

  stop(): void {
    this.stopped = true;
  }

  private plan(alarm: StoredAlarm, l: LinkageConfig): Omit<CommandRequest, 'requestedBy' | 'reason' | 'alarmId' | 'ttlMs'>[] {
    const out: Omit<CommandRequest, 'requestedBy' | 'reason' | 'alarmId' | 'ttlMs'>[] = [];
    const cams = new Set<string>();
    if (l.snapshots === 'linked' && alarm.deviceId) for (const c of this.o.registry.linkedCameras(alarm.deviceId, alarm.place?.zone)) cams.add(c);
    for (const c of l.cameras) cams.add(c);
    for (const c of cams) if (this.o.registry.get(c)?.snapshot !== false) out.push({ deviceId: c, action: 'snapshot', params: {} });
    if (l.ptz) out.push({ deviceId: l.ptz.camera, action: 'ptz_preset', params: { preset: l.ptz.preset } });
    if (l.siren) out.push({ deviceId: l.siren.device, action: 'siren', params: { on: true, seconds: l.siren.seconds } });
    if (l.broadcast) {
      out.push({
        deviceId: l.broadcast.device,
        action: 'broadcast',
        params: { clip: l.broadcast.clip, ...(l.broadcast.seconds !== undefined ? { seconds: l.broadcast.seconds } : {}) },
      });
    }
    return out;
  }

  private task(p: Promise<void>): void {
    const t = p.catch((err: unknown) => this.o.log.error({ err }, 'linkage step failed'));
    this.tasks.add(t);
    void t.finally(() => this.tasks.delete(t));
  }

  private async step(req: CommandRequest, ruleId: string, alarmId: string): Promise<void> {
    const requestedAt = this.o.clock.now();
    const expiresAt = requestedAt + req.ttlMs;
    const name = this.o.registry.get(req.deviceId)?.name ?? req.deviceId;
    const label = `${name} ${ACTION_LABELS[req.action] ?? req.action}${req.action === 'siren' ? ` ${String(req.params?.seconds)} 秒` : ''}`;
    if (this.o.isAway(req.deviceId)) {
      const back = await this.waitFor(req.deviceId, expiresAt);
      if (!back) {
        const detail = 'never sent: the device was offline until the command expired';
        await this.o.recordUnsent(req, requestedAt, detail);
        await this.history(alarmId, ruleId, `联动 ${label}：未发送，设备离线至指令过期（${Math.round(req.ttlMs / 1000)} 秒）`);
        return;
      }
    }
    const ttlMs = Math.max(1, expiresAt - this.o.clock.now());
    const cmd = await this.o.commands.run({ ...req, ttlMs });
    const text = `联动 ${label}：${STATUS_LABELS[cmd.status]}${cmd.outcome ? `（${cmd.outcome}）` : ''}`;
    const snapshotId = cmd.snapshotId;
    await this.o.alarms.act(
      alarmId,
      'linkage',
      `rule:${ruleId}`,
      text,
      snapshotId ? (a) => ({ ...a, snapshots: a.snapshots.includes(snapshotId) ? a.snapshots : [...a.snapshots, snapshotId] }) : undefined,
    );
  }

  /** Wait until the device is back (true) or the deadline passes (false). */
  private waitFor(deviceId: string, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      let recheck: TimerHandle | null = null;
      const finish = (back: boolean) => {
        if (!this.waiting.has(w)) return;
        this.waiting.delete(w);
        expiry.cancel();
        recheck?.cancel();
        resolve(back);
      };
      const w: Waiting = { deviceId, go: () => finish(true) };
      const look = () => {
        if (!this.o.isAway(deviceId)) return finish(true);
        recheck = this.o.clock.setTimer(RECHECK_MS, look);
      };
      const expiry = this.o.clock.setTimer(Math.max(0, deadline - this.o.clock.now()), () => finish(false));
      this.waiting.add(w);
      recheck = this.o.clock.setTimer(RECHECK_MS, look);
    });
  }

  private async history(alarmId: string, ruleId: string, text: string): Promise<void> {
    await this.o.alarms.act(alarmId, 'linkage', `rule:${ruleId}`, text);
  }
}
