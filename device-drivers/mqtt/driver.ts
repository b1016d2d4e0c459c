import { createHmac } from 'node:crypto';
import type { DeviceConfig, MqttBridgeConfig } from '../../config/schema.ts';
import type { Command, CommandOutcome } from '../../gateway/core/command.ts';
import type { TimerHandle } from '../../gateway/core/clock.ts';
import type { DeviceHealth, Driver, DriverContext } from '../../gateway/core/driver.ts';
import type { DeviceEvent } from '../../gateway/core/events.ts';
import type { ClientChange, InboundPublish, MqttTransport } from '../../gateway/core/mqtt.ts';
import { decodeAck, decodeEvent, decodeState, decodeStatus, encodeCommand, redactedExcerpt, type AckResult } from './contract.ts';
import { ProfileMapper } from './profiles/engine.ts';
import { parseTopic, topicsFor } from './topics.ts';

export interface MqttDriverOptions extends DriverContext {
  transport: MqttTransport;
  bridges: readonly MqttBridgeConfig[];
  /** Per-box secret salt for access credentials: only HMAC-SHA256(salt, credential) is ever kept. */
  credentialSalt: Buffer;
  /** Seconds a device must stay away before device_offline (flap debounce). */
  offlineDebounceSeconds: number;
}

/** A device that stays connected but says nothing for this long is silent (a fault). */
export const SILENCE_LIMIT_MS: Partial<Record<DeviceConfig['kind'], number>> = {
  alarm_panel: 5 * 60_000,
  access_controller: 5 * 60_000,
  sos_button: 60 * 60_000,
  sensor: 60 * 60_000,
  siren: 60 * 60_000,
  loudspeaker: 60 * 60_000,
};

interface DeviceRuntime {
  device: DeviceConfig;
  /** What the box has reported (after the debounce); null until the device first shows up or is reported offline. */
  online: boolean | null;
  connected: boolean;
  lastSeen: number | null;
  silent: boolean;
  offlineTimer: TimerHandle | null;
  silenceTimer: TimerHandle | null;
  /** clock.monotonic() at the last message, for the silence watchdog. */
  lastSeenMono: number;
  state: Record<string, unknown> | null;
}

interface PendingCommand {
  resolve: (o: CommandOutcome) => void;
  timer: TimerHandle;
}

const ACK_OUTCOME: Record<AckResult, CommandOutcome['status']> = { ok: 'succeeded', failed: 'failed', rejected: 'failed', expired: 'expired' };

/**
 * The MQTT driver: turns what devices publish (docs/mqtt-contract.md) into
 * DeviceEvents, online/offline/silent into events of their own, and runs
 * commands with an expiry. It never touches the store: events go to the sink,
 * whose promise resolves after the commit — only then does the broker PUBACK.
 */
export class MqttDriver implements Driver {
  readonly name = 'mqtt';
  private runtimes = new Map<string, DeviceRuntime>();
  private mapper: ProfileMapper;
  private pending = new Map<string, PendingCommand>();
  private offClient: (() => void) | null = null;

  constructor(private readonly o: MqttDriverOptions) {
    for (const d of o.devices) {
      if (d.kind === 'onvif_camera' || d.kind === 'mqtt_mapped') continue;
      this.runtimes.set(d.id, {
        device: d,
        online: null,
        connected: false,
        lastSeen: null,
        silent: false,
        offlineTimer: null,
        silenceTimer: null,
        lastSeenMono: 0,
        state: null,
      });
    }
    this.mapper = new ProfileMapper(o.bridges, o.devices);
  }

  async start(): Promise<void> {
    this.o.transport.onInbound((msg) => this.inbound(msg));
    this.offClient = this.o.transport.onClientChange((c) => this.clientChange(c));
    // A device that does not connect within the debounce after start is reported offline.
    for (const r of this.runtimes.values()) if (!r.connected && r.device.enabled) this.away(r, 'not connected since the gateway started');
  }

  async stop(): Promise<void> {
    this.offClient?.();
    this.o.transport.onInbound(async () => {
      throw new Error('the MQTT driver is stopped');
    });
    for (const r of this.runtimes.values()) {
      r.offlineTimer?.cancel();
      r.silenceTimer?.cancel();
    }
    for (const [, p] of this.pending) {
      p.timer.cancel();
      p.resolve({ status: 'failed', detail: 'the gateway stopped before the device answered' });
    }
    this.pending.clear();
  }

  health(): DeviceHealth[] {
    return [...this.runtimes.values()].map((r) => ({
      deviceId: r.device.id,
      reachable: r.connected,
      eventChannel: 'n/a' as const,
      lastSeen: r.lastSeen,
      ...(r.silent ? { detail: 'silent: connected but not reporting' } : {}),
    }));
  }

  /** Whether this driver runs the device (an MQTT device of the site). */
  handles(deviceId: string): boolean {
    return this.runtimes.has(deviceId);
  }

  /** The latest retained state snapshot a device published. */
  stateOf(deviceId: string): Record<string, unknown> | null {
    return this.runtimes.get(deviceId)?.state ?? null;
  }

  async execute(cmd: Command): Promise<CommandOutcome> {
    const r = this.runtimes.get(cmd.deviceId);
    if (!r) return { status: 'failed', detail: `${cmd.deviceId} is not an MQTT device of this site` };
    const now = this.o.clock.now();
    if (now >= cmd.expiresAt) return { status: 'expired', detail: 'expired before it was sent' };
    const encoded = encodeCommand(r.device, cmd);
    if (!encoded.ok) return { status: 'failed', detail: encoded.reason };
    const outcome = new Promise<CommandOutcome>((resolve) => {
      const timer = this.o.clock.setTimer(cmd.expiresAt - now, () => {
        this.pending.delete(cmd.id);
        resolve({ status: 'timed_out', detail: r.connected ? 'no answer before the command expired' : 'the device was offline until the command expired' });
      });
      this.pending.set(cmd.id, { resolve, timer });
    });
    // QoS 1 on a persistent session: an offline device gets it on reconnect, and refuses it if expired by then.
    await this.o.transport.publish(topicsFor(cmd.deviceId).cmd, encoded.payload, { qos: 1, retain: false });
    return outcome;
  }

  private async inbound(msg: InboundPublish): Promise<void> {
    if (msg.principal.kind === 'bridge') return this.bridgeMessage(msg);
    const t = parseTopic(msg.topic);
    const r = this.runtimes.get(msg.principal.id);
    if (!t || !r || t.deviceId !== msg.principal.id) {
      this.o.sink.reject({ deviceId: msg.principal.id, source: msg.topic, reason: 'not a topic of the device contract' });
      return;
    }
    this.seen(r, msg.receivedAt);
    switch (t.channel) {
      case 'event': {
        const d = decodeEvent(r.device, msg.payload, msg.receivedAt, (raw) => this.hashCredential(raw));
        if (!d.ok) return this.reject(r.device.id, msg, d.reason);
        for (let i = 0; i < d.events.length; i++) {
          // Acknowledged only after every event of the message is committed.
          const dedupeKey = d.events.length === 1 ? d.deviceEventId : `${d.deviceEventId}#${i}`;
          await this.o.sink.emit(d.events[i]!, msg.dup ? { dedupeKey, resent: true } : { dedupeKey });
        }
        return;
      }
      case 'status': {
        const s = decodeStatus(msg.payload);
        if (s === null) return this.reject(r.device.id, msg, 'status must be "online" or "offline"');
        if (s === 'offline') return this.away(r, 'the device reported offline (will or status)');
        return this.back(r);
      }
      case 'state': {
        const s = decodeState(msg.payload);
        if (!s.ok) return this.reject(r.device.id, msg, s.reason);
        r.state = s.state;
        return;
      }
      case 'cmd/ack': {
        const a = decodeAck(msg.payload);
        if (!a.ok) return this.reject(r.device.id, msg, a.reason);
        const p = this.pending.get(a.id);
        if (!p) return; // late or unknown: the command was already reported as timed out
        this.pending.delete(a.id);
        p.timer.cancel();
        p.resolve({
          status: ACK_OUTCOME[a.result],
          ...(a.detail !== undefined ? { detail: a.detail } : a.result === 'rejected' ? { detail: 'rejected by the device' } : {}),
        });
        return;
      }
      default:
        return this.reject(r.device.id, msg, `devices do not publish to ${t.channel}`);
    }
  }

  private async bridgeMessage(msg: InboundPublish): Promise<void> {
    const m = this.mapper.map(msg.principal.id, msg.topic, msg.payload, msg.receivedAt);
    if (!m.ok) return this.reject(msg.principal.id, msg, m.reason);
    if (m.deviceId === null) return;
    for (const e of m.events) await this.o.sink.emit(e);
  }

  private reject(deviceId: string, msg: InboundPublish, reason: string): void {
    // Acknowledged anyway: resending a payload that cannot be understood would not help.
    this.o.sink.reject({ deviceId, source: msg.topic, reason, excerpt: redactedExcerpt(msg.payload) ?? '' });
  }

  private clientChange(c: ClientChange): void {
    if (c.principal.kind === 'bridge') {
      if (c.type === 'connected') this.mapper.forget(); // its next message per device is a snapshot
      return;
    }
    const r = this.runtimes.get(c.principal.id);
    if (!r) return;
    if (c.type === 'connected') {
      r.connected = true;
      this.seen(r, c.at);
      this.back(r);
    } else {
      r.connected = false;
      r.silenceTimer?.cancel();
      r.silenceTimer = null;
      this.away(r, c.reason === 'keepalive_timeout' ? 'keepalive timed out' : 'connection closed');
    }
  }

  /** Gone: report device_offline only if it stays away for the debounce (flaps are not reported). */
  private away(r: DeviceRuntime, reason: string): void {
    r.offlineTimer?.cancel();
    r.offlineTimer = null;
    if (r.online === false) return; // already reported
    r.offlineTimer = this.o.clock.setTimer(this.o.offlineDebounceSeconds * 1000, () => {
      r.offlineTimer = null;
      r.online = false;
      this.emitBox(r.device.id, { kind: 'device_offline', attrs: { reason } }, true);
    });
  }

  /** Here: cancel a pending offline; if offline was reported, report the recovery. */
  private back(r: DeviceRuntime): void {
    r.offlineTimer?.cancel();
    r.offlineTimer = null;
    if (r.online === false) this.emitBox(r.device.id, { kind: 'device_offline', attrs: {} }, false);
    r.online = true;
  }

  /** Any message: the device is alive; its silence watchdog counts from now. */
  private seen(r: DeviceRuntime, at: number): void {
    r.lastSeen = at;
    r.lastSeenMono = this.o.clock.monotonic();
    if (r.silent) {
      r.silent = false;
      this.emitBox(r.device.id, { kind: 'device_silent', attrs: { silentForMs: 0 } }, false);
    }
    const limit = SILENCE_LIMIT_MS[r.device.kind];
    if (limit && !r.silenceTimer) this.watchSilence(r, limit, limit);
  }

  /**
   * One watchdog timer per device, not one per message: when it fires it looks at when the device was last
   * heard and waits out the rest (thousands of messages a second used to cancel and re-create as many timers).
   */
  private watchSilence(r: DeviceRuntime, limit: number, waitMs: number): void {
    r.silenceTimer = this.o.clock.setTimer(waitMs, () => {
      r.silenceTimer = null;
      if (!r.connected) return;
      const quiet = this.o.clock.monotonic() - r.lastSeenMono;
      if (quiet < limit) return this.watchSilence(r, limit, limit - quiet);
      r.silent = true;
      this.emitBox(r.device.id, { kind: 'device_silent', attrs: { silentForMs: limit } }, true);
    });
  }

  private emitBox(deviceId: string, e: Pick<DeviceEvent, 'kind' | 'attrs'>, active: boolean): void {
    const now = this.o.clock.now();
    const event = { ...e, deviceId, active, deviceTime: null, receivedAt: now, clockOffsetMs: null, clockTrusted: false } as DeviceEvent;
    this.o.sink.emit(event).catch((err: Error) => this.o.log.error({ err, deviceId, kind: e.kind }, 'could not store a device health event'));
  }

  private hashCredential(raw: string): string {
    return createHmac('sha256', this.o.credentialSalt).update(raw).digest('base64url').slice(0, 32);
  }
}
