import type { OnvifCameraConfig } from '../../config/schema.ts';
import type { Command, CommandOutcome } from '../../gateway/core/command.ts';
import type { DeviceHealth, Driver, DriverContext } from '../../gateway/core/driver.ts';
import type { SnapshotSink } from '../../gateway/core/snapshot.ts';
import type { SubscriptionMemory } from '../../gateway/core/subscriptions.ts';
import { CameraAdapter } from './adapter.ts';
import { OnvifError } from './errors.ts';
import { CameraSession } from './session.ts';
import { fetchSnapshot } from './snapshot.ts';
import { DEFAULT_TUNING, type OnvifTuning } from './tuning.ts';

export interface OnvifDriverOptions extends DriverContext {
  /** Seconds a camera must stay unreachable before device_offline. */
  offlineDebounceSeconds: number;
  /** Where snapshot commands put their pictures (files beside the database). */
  snapshots?: SnapshotSink;
  /** Where each camera's subscription is remembered, so that the run after a crash takes it over. */
  subscriptions?: SubscriptionMemory;
  tuning?: Partial<OnvifTuning>;
  random?: () => number;
}

/**
 * The ONVIF driver: one CameraSession (PullPoint event client, health) per
 * enabled camera, and commands — snapshot (stored through the SnapshotSink)
 * and ptz_preset — through the node-onvif adapter. Never touches the store
 * (snapshots and held subscriptions go through ports app.ts hands it).
 */
export class OnvifDriver implements Driver {
  readonly name = 'onvif';
  readonly tuning: OnvifTuning;
  private readonly cameras = new Map<string, OnvifCameraConfig>();
  private readonly sessions = new Map<string, CameraSession>();
  private readonly adapters = new Map<string, CameraAdapter>();

  constructor(private readonly o: OnvifDriverOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...o.tuning };
    for (const d of o.devices) if (d.kind === 'onvif_camera' && d.enabled) this.cameras.set(d.id, d);
  }

  async start(): Promise<void> {
    const memory = this.o.subscriptions;
    const held = (await memory?.recall()) ?? new Map();
    for (const id of held.keys()) {
      // A camera no longer in the config, or disabled: nobody will renew it, and it terminates on its own.
      if (!this.cameras.has(id)) await memory!.forget(id);
    }
    if (held.size > 0)
      this.o.log.info({ cameras: [...held.keys()].filter((id) => this.cameras.has(id)) }, 'subscriptions the previous run left held: taking them over');
    let i = 0;
    for (const device of this.cameras.values()) {
      const session = new CameraSession({
        device,
        sink: this.o.sink,
        clock: this.o.clock,
        log: this.o.log.child({ device: device.id }),
        tuning: this.tuning,
        offlineDebounceMs: this.o.offlineDebounceSeconds * 1000,
        ...(this.o.random ? { random: this.o.random } : {}),
        ...(memory ? { memory } : {}),
        ...(held.has(device.id) ? { held: held.get(device.id) } : {}),
      });
      this.sessions.set(device.id, session);
      session.start(i++ * this.tuning.startSpreadMs);
    }
    this.o.log.info({ cameras: this.sessions.size }, 'ONVIF driver started');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.stop()));
    this.sessions.clear();
    for (const a of this.adapters.values()) a.close();
    this.adapters.clear();
  }

  handles(deviceId: string): boolean {
    return this.cameras.has(deviceId);
  }

  health(): DeviceHealth[] {
    return [...this.sessions.values()].map((s) => s.health.snapshot());
  }

  /** The session of a camera (status for the panel, tests and the benchmark). */
  session(deviceId: string): CameraSession | undefined {
    return this.sessions.get(deviceId);
  }

  /** How many cameras hold a subscription whose last pull worked. */
  activeSubscriptions(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.subscribed) n++;
    return n;
  }

  adapter(deviceId: string): CameraAdapter | undefined {
    const d = this.cameras.get(deviceId);
    if (!d) return undefined;
    let a = this.adapters.get(deviceId);
    if (!a) {
      a = new CameraAdapter({
        host: d.host,
        port: d.port,
        username: d.username,
        password: d.password.reveal(),
        clock: this.o.clock,
        timeoutMs: this.tuning.requestTimeoutMs,
      });
      this.adapters.set(deviceId, a);
    }
    return a;
  }

  async execute(cmd: Command): Promise<CommandOutcome> {
    const d = this.cameras.get(cmd.deviceId);
    if (!d) return { status: 'failed', detail: `${cmd.deviceId} is not an enabled ONVIF camera of this site` };
    if (this.o.clock.now() >= cmd.expiresAt) return { status: 'expired', detail: 'expired before it was sent' };
    const session = this.sessions.get(d.id);
    if (session?.loginBlocked)
      return { status: 'failed', detail: 'logins to this camera are paused after refused logins (auth_failed): fix the ONVIF credentials first' };
    try {
      switch (cmd.action) {
        case 'snapshot':
          return await this.snapshot(d, cmd);
        case 'ptz_preset':
          return await this.ptzPreset(d, cmd);
        default:
          return { status: 'failed', detail: `a camera cannot ${cmd.action}` };
      }
    } catch (err) {
      const e = err as Error;
      if (err instanceof OnvifError && err.kind === 'auth') session?.noteRefusedLogin();
      if (this.o.clock.now() >= cmd.expiresAt) return { status: 'timed_out', detail: `no answer before the command expired (${e.message})` };
      return { status: 'failed', detail: e.message.slice(0, 300) };
    }
  }

  private async snapshot(d: OnvifCameraConfig, cmd: Command): Promise<CommandOutcome> {
    if (!d.snapshot) return { status: 'failed', detail: `snapshots are off for ${d.id} (snapshot: false in the site file)` };
    if (!this.o.snapshots) return { status: 'failed', detail: 'no snapshot store is configured' };
    const desc = await this.adapter(d.id)!.describe();
    const wanted = typeof cmd.params.profile === 'string' ? cmd.params.profile : null;
    const profile = desc.profiles.find((p) => (wanted ? p.token === wanted : p.snapshotUri !== null));
    if (!profile?.snapshotUri) return { status: 'failed', detail: wanted ? `profile ${wanted} has no snapshot URI` : 'the camera offers no snapshot URI' };
    const pic = await fetchSnapshot(profile.snapshotUri, {
      username: d.username,
      password: d.password.reveal(),
      clock: this.o.clock,
      timeoutMs: Math.max(1000, Math.min(this.tuning.requestTimeoutMs, cmd.expiresAt - this.o.clock.now())),
    });
    const ref = await this.o.snapshots.save({
      deviceId: d.id,
      bytes: pic.bytes,
      contentType: pic.contentType,
      takenAt: this.o.clock.now(),
      reason: cmd.reason,
      commandId: cmd.id,
      alarmId: cmd.alarmId,
    });
    return { status: 'succeeded', detail: `${ref.bytes} bytes (${profile.name})`, snapshotId: ref.id };
  }

  private async ptzPreset(d: OnvifCameraConfig, cmd: Command): Promise<CommandOutcome> {
    if (!d.ptz) return { status: 'failed', detail: `${d.id} is not a PTZ camera (ptz: false in the site file)` };
    const preset = cmd.params.preset;
    if ((typeof preset !== 'string' || !preset) && typeof preset !== 'number')
      return { status: 'failed', detail: 'ptz_preset needs params.preset (the preset token, e.g. "2")' };
    const profile = typeof cmd.params.profile === 'string' ? cmd.params.profile : undefined;
    await this.adapter(d.id)!.gotoPreset(String(preset), profile);
    return { status: 'succeeded', detail: `moved to preset ${preset}` };
  }
}
