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

type WaitEnd = 'back' | 'expired' | 'stopped';

interface Waiting {
  deviceId: string;
  end: (how: WaitEnd) => void;
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
  /** Steps at work (not those waiting for a device to come back). */
  private busy = 0;
  private idleWaiters: (() => void)[] = [];
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
    for (const w of [...this.waiting]) if (w.deviceId === deviceId) w.end('back');
  }

  /** Resolves when no step is at work (steps waiting for an absent device do not count: they wait on the clock). */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  waitingCount(): number {
    return this.waiting.size;
  }

  /** No new linkage; commands waiting for a device are recorded as never sent. */
  stop(): void {
    this.stopped = true;
    for (const w of [...this.waiting]) w.end('stopped');
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
    this.work(+1);
    void p.catch((err: unknown) => this.o.log.error({ err }, 'linkage step failed')).finally(() => this.work(-1));
  }

  private work(n: number): void {
    this.busy += n;
    if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async step(req: CommandRequest, ruleId: string, alarmId: string): Promise<void> {
    const requestedAt = this.o.clock.now();
    const expiresAt = requestedAt + req.ttlMs;
    const name = this.o.registry.get(req.deviceId)?.name ?? req.deviceId;
    const label = `${name} ${ACTION_LABELS[req.action] ?? req.action}${req.action === 'siren' ? ` ${String(req.params?.seconds)} 秒` : ''}`;
    if (this.o.isAway(req.deviceId)) {
      const how = await this.waitFor(req.deviceId, expiresAt);
      if (how !== 'back') {
        const detail =
          how === 'expired' ? 'never sent: the device was offline until the command expired' : 'never sent: the gateway stopped while the device was offline';
        await this.o.recordUnsent(req, requestedAt, detail);
        await this.history(
          alarmId,
          ruleId,
          how === 'expired' ? `联动 ${label}：未发送，设备离线至指令过期（${Math.round(req.ttlMs / 1000)} 秒）` : `联动 ${label}：未发送，设备离线期间网关停止`,
        );
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

  /** Wait until the device is back, the deadline passes, or the gateway stops; the step does not count as busy meanwhile. */
  private waitFor(deviceId: string, deadline: number): Promise<WaitEnd> {
    this.work(-1);
    return new Promise((resolve) => {
      let recheck: TimerHandle | null = null;
      const finish = (how: WaitEnd) => {
        if (!this.waiting.has(w)) return;
        this.waiting.delete(w);
        expiry.cancel();
        recheck?.cancel();
        this.work(+1);
        resolve(how);
      };
      const w: Waiting = { deviceId, end: finish };
      const look = () => {
        if (!this.o.isAway(deviceId)) return finish('back');
        recheck = this.o.clock.setTimer(RECHECK_MS, look);
      };
      const expiry = this.o.clock.setTimer(Math.max(0, deadline - this.o.clock.now()), () => finish('expired'));
      this.waiting.add(w);
      recheck = this.o.clock.setTimer(RECHECK_MS, look);
    });
  }

  private async history(alarmId: string, ruleId: string, text: string): Promise<void> {
    await this.o.alarms.act(alarmId, 'linkage', `rule:${ruleId}`, text);
  }
}
