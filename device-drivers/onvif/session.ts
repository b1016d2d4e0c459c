import type { Logger } from 'pino';
import type { OnvifCameraConfig } from '../../config/schema.ts';
import type { Clock, TimerHandle } from '../../gateway/core/clock.ts';
import type { EmitOptions, EventSink } from '../../gateway/core/driver.ts';
import { DeviceEventSchema, type DeviceEvent } from '../../gateway/core/events.ts';
import { backoffMs } from '../../gateway/core/outbox.ts';
import type { HeldSubscription, SubscriptionMemory } from '../../gateway/core/subscriptions.ts';
import { OnvifError } from './errors.ts';
import { CameraHealth, type HealthEmit } from './health.ts';
import { propertyKey, toEvent, type Notification } from './notification.ts';
import { PullPointClient, type Subscription } from './pullpoint.ts';
import { SoapClient } from './soap.ts';
import { readSystemDateAndTime } from './time.ts';
import type { OnvifTuning } from './tuning.ts';
import { hostPort, rewriteUrl } from './urls.ts';
import { text } from './xml.ts';

export interface SessionOptions {
  device: OnvifCameraConfig;
  sink: EventSink;
  clock: Clock;
  log: Logger;
  tuning: OnvifTuning;
  offlineDebounceMs: number;
  random?: () => number;
  /** Where the subscription this session holds is remembered, so that the run after a crash takes it over. */
  memory?: SubscriptionMemory;
  /** What the previous run left held on this camera: renewed and pulled before any new subscription is made. */
  held?: HeldSubscription;
}

export type WaitReason = 'start' | 'backoff' | 'unreachable' | 'subscription-cap' | 'auth-pause' | 'heartbeat' | 'early-empty' | 'emit-retry';

/** Properties remembered per camera (their last state), to tell a sync point's echo from news. */
const KNOWN_MAX = 512;
/** Tries to store one event before it is kept as a reject instead (the store may be busy for a while, not forever). */
const EMIT_ATTEMPTS = 30;

/** A subscription that answers but no longer delivers (caught by a sync point that brings nothing). */
class ChannelDead extends Error {}

export interface SessionStats {
  creates: number;
  /** Subscriptions a previous run left held, taken over (renewed) instead of creating one. */
  resumes: number;
  renews: number;
  pulls: number;
  syncChecks: number;
  /** Subscriptions recreated after a failure. */
  resubscribes: number;
  emitted: number;
  rejected: number;
  /** Logins the camera refused, in total. */
  authFailures: number;
}

/**
 * One camera's event client: reads the camera clock, keeps one PullPoint
 * subscription and exactly one PullMessages in flight, renews before the
 * termination time, checks with sync points that a quiet subscription still
 * delivers, and recovers from every failure with a jittered backoff —
 * never a tight loop, never past a few refused logins. Each pull's events
 * are committed (sink.emit resolved) before the next pull is sent.
 */
export class CameraSession {
  readonly soap: SoapClient;
  readonly health: CameraHealth;
  readonly stats: SessionStats = { creates: 0, resumes: 0, renews: 0, pulls: 0, syncChecks: 0, resubscribes: 0, emitted: 0, rejected: 0, authFailures: 0 };
  private readonly pp: PullPointClient;
  private readonly deviceUrl: string;
  private readonly t: OnvifTuning;
  private offsetMs: number | null = null;
  private sub: Subscription | null = null;
  private held: HeldSubscription | null;
  private eventsUrl: string | null = null;
  private abort = new AbortController();
  private stopped = false;
  private running: Promise<void> | null = null;
  private sleepers = new Set<() => void>();
  private attempt = 0;
  private authFailures = 0;
  private authBlocked = false;
  private timeCheckedAt = -Infinity;
  private forceTimeCheck = true;
  private timeReads = 0;
  private syncedAt = -Infinity;
  private syncWatch: { remaining: number } | null = null;
  private syncCapable = false;
  /** Last known state of each property (topic + source + key), to tell a sync point's echo from news. */
  private known = new Map<string, boolean | null>();
  private emitFailLoggedAt = -Infinity;
  /** What the session is waiting for, if it is waiting (not talking to the camera). */
  waiting: { reason: WaitReason; until: number } | null = null;

  constructor(private readonly o: SessionOptions) {
    const d = o.device;
    this.t = o.tuning;
    this.held = o.held ?? null;
    this.deviceUrl = `http://${hostPort(d.host, d.port)}/onvif/device_service`;
    this.soap = new SoapClient({ username: d.username, password: d.password.reveal(), clock: o.clock, cameraNow: () => o.clock.now() + (this.offsetMs ?? 0) });
    this.pp = new PullPointClient(this.soap, o.clock, (u) => rewriteUrl(u, d.host, d.port));
    this.health = new CameraHealth(d.id, o.clock, this.emitHealth, {
      eventsEnabled: d.eventsEnabled,
      offlineDebounceMs: o.offlineDebounceMs,
      channelFailuresBeforeLost: this.t.channelFailuresBeforeLost,
      clockSkewThresholdMs: this.t.clockSkewThresholdMs,
    });
  }

  get deviceId(): string {
    return this.o.device.id;
  }

  /** Camera clock minus box clock, when read. */
  get clockOffsetMs(): number | null {
    return this.offsetMs;
  }

  /** The box stopped logging in after refused logins (auth_failed): no command may try either. */
  get loginBlocked(): boolean {
    return this.authBlocked;
  }

  get subscribed(): boolean {
    return this.sub !== null && this.health.channelAlive;
  }

  get subscriptionAddress(): string | null {
    return this.sub?.address ?? null;
  }

  start(delayMs = 0): void {
    if (this.running) return;
    this.running = (async () => {
      if (delayMs > 0) await this.sleep(delayMs, 'start');
      await this.run();
    })();
  }

  /** Stop pulling, Unsubscribe (the camera's slot is freed at once), cancel timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    await this.running;
    const s = this.sub;
    this.sub = null;
    if (s && !this.authBlocked) {
      let guard: NodeJS.Timeout | undefined;
      await Promise.race([
        this.pp.unsubscribe(s, Math.min(this.t.requestTimeoutMs, 3000)).then(
          () => this.forget(),
          // Still remembered: the next run takes it over, or finds it gone.
          (err: Error) => this.o.log.debug({ err: err.message }, 'Unsubscribe on stop failed'),
        ),
        new Promise<void>((r) => (guard = setTimeout(r, 3000))), // a real-time bound on shutdown, whatever the clock
      ]);
      clearTimeout(guard);
    }
    this.health.stop();
  }

  // ---------------------------------------------------------------- the loop

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.authBlocked) {
          if (this.t.authRetryAfterMs <= 0) {
            await this.sleep(Number.MAX_SAFE_INTEGER / 2, 'auth-pause');
            continue;
          }
          await this.sleep(this.t.authRetryAfterMs, 'auth-pause');
          if (this.stopped) break;
          this.o.log.info('one login attempt after the pause (auth_failed stays until it succeeds)');
        }
        await this.checkTime();
        if (!this.o.device.eventsEnabled) {
          this.attempt = 0;
          this.forceTimeCheck = true; // the clock read is the heartbeat
          await this.sleep(this.t.heartbeatMs, 'heartbeat');
          continue;
        }
        if (!this.sub) await this.subscribe();
        await this.pullOnce();
        this.attempt = 0;
      } catch (err) {
        if (this.stopped) break;
        await this.onFailure(err);
      }
    }
  }

  private async checkTime(): Promise<void> {
    if (!this.forceTimeCheck && this.o.clock.monotonic() - this.timeCheckedAt < this.t.timeCheckMs) return;
    await this.readTime();
    this.forceTimeCheck = false;
  }

  /** GetSystemDateAndTime without credentials (pre-auth), with them only if the camera insists; sets the offset. */
  private async readTime(): Promise<void> {
    const call = (auth: boolean) =>
      this.soap.call({
        url: this.deviceUrl,
        op: 'GetSystemDateAndTime',
        auth,
        timeoutMs: this.t.requestTimeoutMs,
        body: '<tds:GetSystemDateAndTime/>',
        signal: this.abort.signal,
      });
    const before = this.o.clock.now();
    let answer = null;
    try {
      answer = await call(false);
    } catch (err) {
      if (!(err instanceof OnvifError) || (err.kind !== 'auth' && err.kind !== 'fault')) throw err;
      this.health.seen();
      try {
        answer = await call(true); // Panasonic and others answer only authenticated
      } catch (err2) {
        // A camera without the operation still works: its clock is unknown (a refused login does count).
        if (!(err2 instanceof OnvifError) || err2.kind !== 'fault') throw err2;
      }
    }
    const after = this.o.clock.now();
    this.health.seen();
    this.timeCheckedAt = this.o.clock.monotonic();
    const t = answer ? readSystemDateAndTime(answer.response) : null;
    const previous = this.offsetMs;
    // The camera gives whole seconds: its true time lies anywhere in that second, so take its middle (±0.5 s).
    this.offsetMs = t ? Math.round(t.utcMs + 500 - (before + after) / 2) : null;
    if (!t && (previous !== null || this.timeReads === 0))
      this.o.log.warn('the camera gives no usable date: its event times are not trusted (receive times are used)');
    this.timeReads++;
    if (t && (previous === null || Math.abs(previous - this.offsetMs!) > this.t.clockSkewThresholdMs)) {
      this.o.log.info({ offsetMs: this.offsetMs, dateTimeType: t.type, fromLocal: t.fromLocal }, 'camera clock read');
    }
    this.health.clockRead(this.offsetMs);
  }

  private async subscribe(): Promise<void> {
    if (this.held && (await this.resume(this.held))) return;
    if (!this.eventsUrl) this.eventsUrl = await this.findEventsUrl();
    const s = await this.pp.create(this.eventsUrl, this.t.subscriptionMs, this.t.requestTimeoutMs, this.abort.signal);
    if (this.stats.creates++ > 0) this.stats.resubscribes++;
    this.loginOk();
    this.sub = s;
    this.o.log.debug({ address: s.address, grantedMs: s.grantedMs }, 'PullPoint subscription created');
    await this.o.memory
      ?.remember({
        deviceId: this.o.device.id,
        address: s.address,
        referenceParameters: s.referenceParameters,
        namespaces: s.namespaces,
        createdAt: this.o.clock.now(),
      })
      .catch((err: Error) =>
        this.o.log.warn({ err: err.message }, 'could not record the subscription: after a crash it would stay on the camera until it terminates'),
      );
    await this.synchronise(s);
  }

  /**
   * Take over the subscription a previous run left held (it crashed, or could not Unsubscribe): Renew it, and the
   * pulls that follow bring what the camera queued meanwhile. False when the camera no longer has it. A camera
   * that does not answer, or refuses the login, throws: the next attempt tries it again.
   */
  private async resume(held: HeldSubscription): Promise<boolean> {
    const s: Subscription = {
      address: held.address,
      referenceParameters: held.referenceParameters,
      namespaces: held.namespaces,
      expiresAt: this.o.clock.monotonic(),
      grantedMs: this.t.subscriptionMs,
    };
    try {
      await this.pp.renew(s, this.t.subscriptionMs, this.t.requestTimeoutMs, this.abort.signal);
    } catch (err) {
      if (!(err instanceof OnvifError) || !err.answered || err.kind === 'auth') throw err;
      this.held = null;
      this.o.log.info({ address: held.address, err: err.message }, 'the subscription the previous run held is gone from the camera: creating a new one');
      await this.forget();
      return false;
    }
    this.held = null;
    this.stats.resumes++;
    this.loginOk();
    this.sub = s;
    this.o.log.info(
      { address: s.address, heldSince: new Date(held.createdAt).toISOString() },
      'took over the subscription the previous run held: pulling what the camera queued meanwhile',
    );
    await this.synchronise(s);
    return true;
  }

  /** Current states arrive as Initialized messages after a sync point: a state snapshot, not new alarms. */
  private async synchronise(s: Subscription): Promise<void> {
    try {
      await this.pp.sync(s, this.t.requestTimeoutMs, this.abort.signal);
      this.syncedAt = this.o.clock.monotonic();
    } catch (err) {
      if (!(err instanceof OnvifError) || err.kind !== 'fault') throw err;
      this.o.log.debug({ err: err.message }, 'SetSynchronizationPoint not supported');
    }
  }

  private async forget(): Promise<void> {
    await this.o.memory
      ?.forget(this.o.device.id)
      .catch((err: Error) => this.o.log.warn({ err: err.message }, 'could not record that the subscription was dropped'));
  }

  private async findEventsUrl(): Promise<string> {
    const a = await this.soap.call({
      url: this.deviceUrl,
      op: 'GetCapabilities',
      auth: true,
      timeoutMs: this.t.requestTimeoutMs,
      body: '<tds:GetCapabilities><tds:Category>Events</tds:Category></tds:GetCapabilities>',
      signal: this.abort.signal,
    });
    const x = text(a.response, 'Capabilities', 'Events', 'XAddr');
    if (!x)
      throw new OnvifError('fault', 'the camera reports no events service (GetCapabilities has no Events/XAddr)', {
        url: this.deviceUrl,
        op: 'GetCapabilities',
      });
    return rewriteUrl(x, this.o.device.host, this.o.device.port);
  }

  private async pullOnce(): Promise<void> {
    const s = this.sub!;
    const clock = this.o.clock;
    const pullTimeout = Math.min(this.t.pullTimeoutMs, Math.max(1000, Math.floor(s.grantedMs / 4)));
    // Renew while there is time: before a pull could outlast the subscription.
    if (s.expiresAt - clock.monotonic() <= Math.max(this.t.renewMarginMs, pullTimeout + this.t.pullSlackMs)) {
      await this.pp.renew(s, this.t.subscriptionMs, this.t.requestTimeoutMs, this.abort.signal);
      this.stats.renews++;
    }
    if (this.t.syncCheckMs > 0 && this.syncCapable && !this.syncWatch && clock.monotonic() - this.syncedAt >= this.t.syncCheckMs) {
      await this.pp.sync(s, this.t.requestTimeoutMs, this.abort.signal);
      this.syncedAt = clock.monotonic();
      this.syncWatch = { remaining: this.t.syncCheckPulls };
      this.stats.syncChecks++;
    }
    const started = clock.monotonic();
    const r = await this.pp.pull(s, {
      timeoutMs: pullTimeout,
      limit: this.t.messageLimit,
      socketTimeoutMs: pullTimeout + this.t.pullSlackMs,
      signal: this.abort.signal,
    });
    const receivedAt = clock.now();
    this.stats.pulls++;
    this.loginOk();
    this.health.seen();
    this.health.channelUp();
    let initial = 0;
    for (const n of r.notifications) {
      if (this.stopped) break;
      if (n.operation === 'Initialized') initial++;
      await this.handle(n, receivedAt);
    }
    if (initial > 0) this.syncCapable = true;
    if (this.syncWatch) {
      if (initial > 0) this.syncWatch = null;
      else if (--this.syncWatch.remaining <= 0) {
        this.syncWatch = null;
        throw new ChannelDead(`a synchronization point brought nothing within ${this.t.syncCheckPulls} pulls: the subscription stopped delivering`);
      }
    }
    if (r.notifications.length === 0 && clock.monotonic() - started < pullTimeout / 2) await this.sleep(this.t.earlyEmptyPauseMs, 'early-empty');
  }

  /** One notification → one event, committed before returning (the next pull waits for it). */
  private async handle(n: Notification, receivedAt: number): Promise<void> {
    const m = toEvent(n, { deviceId: this.deviceId, receivedAt, clockOffsetMs: this.offsetMs, clockTrusted: this.health.clockTrusted });
    if (m.ok === 'skip') return;
    if (m.ok === false) {
      this.stats.rejected++;
      this.o.sink.reject({
        deviceId: this.deviceId,
        source: n.topic || 'PullMessages',
        reason: m.reason,
        excerpt: JSON.stringify({ source: n.source, data: n.data }),
      });
      return;
    }
    const valid = DeviceEventSchema.safeParse(m.event);
    if (!valid.success) {
      this.stats.rejected++;
      const why = valid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      this.o.sink.reject({
        deviceId: this.deviceId,
        source: n.topic,
        reason: `not a valid ${m.event.kind} event: ${why}`.slice(0, 500),
        excerpt: m.event.raw ?? '',
      });
      return;
    }
    const key = propertyKey(n);
    if (n.operation !== null) {
      if (n.operation === 'Initialized' && this.known.has(key) && this.known.get(key) === m.state) return; // an echo of what the box knows
      this.known.delete(key);
      this.known.set(key, m.state);
      // Bounded: a camera keying properties by object id must not grow this forever (oldest forgotten first).
      if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
    }
    const dedupe =
      n.operation === 'Initialized' || m.event.deviceTime === null
        ? undefined
        : `${key}|${n.utcTime}|${n.operation === null ? JSON.stringify(n.data) : String(m.event.active)}`.slice(0, 512);
    await this.emit(m.event, dedupe ? { dedupeKey: dedupe } : {});
  }

  private async emit(event: DeviceEvent, opts: EmitOptions): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.sink.emit(event, opts);
        this.stats.emitted++;
        return;
      } catch (err) {
        if (attempt >= EMIT_ATTEMPTS) {
          // Not a busy store but an event it refuses every time: keep it as a reject rather than block the camera.
          this.o.log.error(
            { err: (err as Error).message, kind: event.kind },
            `a camera event was refused ${attempt} times: kept in the rejects table, pulling on`,
          );
          this.o.sink.reject({
            deviceId: this.deviceId,
            source: 'PullMessages',
            reason: `could not be stored: ${(err as Error).message}`.slice(0, 500),
            excerpt: event.raw ?? '',
          });
          return;
        }
        if (this.stopped) {
          this.o.log.error(
            { err: (err as Error).message, event: { kind: event.kind, active: event.active } },
            'camera event not stored: the gateway is stopping',
          );
          return;
        }
        if (this.o.clock.monotonic() - this.emitFailLoggedAt > 60_000) {
          this.emitFailLoggedAt = this.o.clock.monotonic();
          this.o.log.error({ err: (err as Error).message }, 'could not store a camera event; retrying before the next pull');
        }
        await this.sleep(this.t.emitRetryMs, 'emit-retry');
      }
    }
  }

  /** A command's login was refused (it counts like the camera counts it). */
  noteRefusedLogin(): void {
    this.authFailures++;
    this.stats.authFailures++;
    if (this.authFailures >= this.t.authFailuresBeforeStop && !this.authBlocked) {
      this.authBlocked = true;
      this.o.log.error({ attempts: this.authFailures }, 'the camera refused logins repeatedly: stopped logging in (auth_failed)');
      this.health.authStopped(this.authFailures);
    }
  }

  private loginOk(): void {
    this.authFailures = 0;
    if (this.authBlocked) {
      this.authBlocked = false;
      this.o.log.info('the camera accepts the login again');
      this.health.authRecovered();
    }
  }

  // ---------------------------------------------------------------- failures

  private async onFailure(err: unknown): Promise<void> {
    this.attempt++;
    const log = this.o.log;
    if (err instanceof ChannelDead) {
      log.warn(`${err.message}; recreating it`);
      this.health.channelFailed(err.message);
      await this.dropSubscription(true);
      await this.sleep(this.backoff(this.t.backoffCapMs), 'backoff');
      return;
    }
    const e =
      err instanceof OnvifError
        ? err
        : new OnvifError('parse', `unexpected: ${(err as Error)?.message ?? String(err)}`, { url: this.deviceUrl, op: 'session' });
    if (e.kind === 'aborted') return;
    if (e.kind === 'auth') {
      this.authFailures++;
      this.stats.authFailures++;
      this.health.seen();
      if (this.authFailures >= this.t.authFailuresBeforeStop) {
        if (!this.authBlocked) {
          this.authBlocked = true;
          log.error(
            { attempts: this.authFailures, err: e.message },
            `the camera refused ${this.authFailures} logins in a row: stopped logging in so its account is not locked (auth_failed); ` +
              `fix the ONVIF user name/password${this.t.authRetryAfterMs > 0 ? `; one attempt every ${Math.round(this.t.authRetryAfterMs / 60_000)} min` : ''}`,
          );
          this.health.authStopped(this.authFailures);
        }
        await this.dropSubscription(false);
        return;
      }
      log.warn({ attempt: this.authFailures, err: e.message }, 'login refused: reading the camera clock again before one more try');
      this.forceTimeCheck = true; // a camera whose clock jumped refuses our Created time
      await this.sleep(this.backoff(this.t.backoffCapMs), 'backoff');
      return;
    }
    const answered = e.answered || (await this.probe());
    if (this.stopped) return;
    if (!answered) {
      // Once per outage at warn (device_offline follows after the debounce); repeats at debug.
      const level = this.health.reachable === true ? 'warn' : this.health.reachable === null ? 'info' : 'debug';
      log[level]({ err: e.message }, this.health.reachable === null ? 'camera not answering yet' : 'camera not answering');
      this.health.unreachable(e.message);
      this.forceTimeCheck = true;
      // The subscription may well survive a network blip: keep it until it expires, then start over.
      if (this.sub && this.o.clock.monotonic() >= this.sub.expiresAt) {
        this.sub = null;
        await this.forget();
      }
      await this.sleep(this.backoff(Math.min(this.t.backoffCapMs, this.t.unreachableCapMs)), 'unreachable');
      return;
    }
    this.health.channelFailed(e.message);
    if (e.kind === 'http' && e.detail.status === 404) this.eventsUrl = null;
    const cap = e.subscriptionCap;
    log.warn({ err: e.message, op: e.detail.op, attempt: this.attempt }, cap ? 'the camera holds its maximum of subscriptions' : 'event channel failed');
    this.health.setNote(cap ? 'the camera holds its maximum number of subscriptions (others may be leaked); waiting for old ones to expire' : null);
    await this.dropSubscription(!e.subscriptionGone);
    await this.sleep(cap ? this.t.capWaitMs : this.backoff(this.t.backoffCapMs), cap ? 'subscription-cap' : 'backoff');
  }

  /** Forget the subscription; Unsubscribe first when it may still hold a slot on the camera. */
  private async dropSubscription(unsubscribe: boolean): Promise<void> {
    const s = this.sub;
    this.sub = null;
    this.syncWatch = null;
    if (s && unsubscribe && !this.authBlocked) {
      await this.pp.unsubscribe(s, Math.min(this.t.requestTimeoutMs, 5000)).catch((err: Error) => this.o.log.debug({ err: err.message }, 'Unsubscribe failed'));
    }
    if (s) await this.forget();
  }

  /** Does the device service answer? (unauthenticated clock read; refreshes the offset when it does) */
  private async probe(): Promise<boolean> {
    try {
      await this.readTime();
      return true;
    } catch (err) {
      return err instanceof OnvifError && err.answered;
    }
  }

  private backoff(capMs: number): number {
    return backoffMs(this.attempt, this.t.backoffBaseMs, capMs, this.o.random ?? Math.random);
  }

  private sleep(ms: number, reason: WaitReason): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.waiting = { reason, until: this.o.clock.monotonic() + ms };
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const wake = () => {
        timer?.cancel();
        this.sleepers.delete(wake);
        this.waiting = null;
        resolve();
      };
      this.sleepers.add(wake);
      timer = this.o.clock.setTimer(ms, wake);
    });
  }

  private emitHealth: HealthEmit = (kind, attrs, active) => {
    const event = {
      kind,
      attrs,
      active,
      deviceId: this.deviceId,
      deviceTime: null,
      receivedAt: this.o.clock.now(),
      clockOffsetMs: this.offsetMs,
      clockTrusted: false,
    } as DeviceEvent;
    this.o.log[active ? 'warn' : 'info']({ kind, active, attrs }, `camera health: ${kind}${active ? '' : ' (recovered)'}`);
    this.o.sink.emit(event).catch((err: Error) => this.o.log.error({ err, kind }, 'could not store a camera health event'));
  };
}
