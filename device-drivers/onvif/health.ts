import type { Clock, TimerHandle } from '../../gateway/core/clock.ts';
import type { DeviceHealth } from '../../gateway/core/driver.ts';
import type { EventAttrs, EventKind } from '../../gateway/core/events.ts';

/** Health events a camera session raises about itself (the box's observation, not the camera's). */
export type HealthKind = Extract<EventKind, 'device_offline' | 'event_channel_lost' | 'clock_skew' | 'auth_failed'>;
export type HealthEmit = <K extends HealthKind>(kind: K, attrs: EventAttrs<K>, active: boolean) => void;

export interface CameraHealthOptions {
  eventsEnabled: boolean;
  offlineDebounceMs: number;
  channelFailuresBeforeLost: number;
  clockSkewThresholdMs: number;
}

/**
 * Two separate facts about a camera and the events that report them:
 * - reachable: its device service answers. Unreachable for longer than the
 *   debounce → device_offline; back → device_offline with active=false.
 * - event channel alive: pulls return, renewals and sync points work. A
 *   camera that answers while its channel keeps failing → event_channel_lost;
 *   the first good pull afterwards → event_channel_lost with active=false.
 * Plus the clock (clock_skew beyond a threshold) and logins (auth_failed).
 */
export class CameraHealth {
  reachable: boolean | null = null;
  channelAlive = false;
  lastSeen: number | null = null;
  offsetMs: number | null = null;
  private channelFailures = 0;
  private lastChannelReason = '';
  private offlineReported = false;
  private offlineTimer: TimerHandle | null = null;
  private channelLostReported = false;
  private skewReported: number | null = null;
  private authReported = false;
  private note: string | null = null;

  constructor(
    readonly deviceId: string,
    private readonly clock: Clock,
    private readonly emit: HealthEmit,
    private readonly o: CameraHealthOptions,
  ) {}

  /** The camera answered (anything at the HTTP level). */
  seen(): void {
    this.lastSeen = this.clock.now();
    this.reachable = true;
    this.offlineTimer?.cancel();
    this.offlineTimer = null;
    if (this.offlineReported) {
      this.offlineReported = false;
      this.emit('device_offline', {}, false);
    }
  }

  /** The camera did not answer; device_offline only if it stays so for the debounce. */
  unreachable(reason: string): void {
    this.reachable = false;
    this.channelAlive = false;
    if (this.offlineReported || this.offlineTimer) return;
    this.offlineTimer = this.clock.setTimer(this.o.offlineDebounceMs, () => {
      this.offlineTimer = null;
      if (this.reachable !== false) return;
      this.offlineReported = true;
      this.emit('device_offline', { reason: reason.slice(0, 256) }, true);
    });
  }

  /** A pull came back: the event channel works. */
  channelUp(): void {
    this.channelAlive = true;
    this.channelFailures = 0;
    if (this.channelLostReported) {
      this.channelLostReported = false;
      this.emit('event_channel_lost', { reason: 'recovered' }, false);
    }
  }

  /** The event channel failed while the camera answers. */
  channelFailed(reason: string): void {
    this.channelAlive = false;
    this.channelFailures++;
    this.lastChannelReason = reason;
    if (!this.channelLostReported && this.reachable && this.channelFailures >= this.o.channelFailuresBeforeLost) {
      this.channelLostReported = true;
      this.emit('event_channel_lost', { reason: reason.slice(0, 256) }, true);
    }
  }

  /** A fresh clock reading: report a skew beyond the threshold, and its end. */
  clockRead(offsetMs: number | null): void {
    this.offsetMs = offsetMs;
    if (offsetMs === null) return;
    const skewed = Math.abs(offsetMs) > this.o.clockSkewThresholdMs;
    if (skewed && (this.skewReported === null || Math.abs(offsetMs - this.skewReported) > this.o.clockSkewThresholdMs)) {
      this.skewReported = offsetMs;
      this.emit('clock_skew', { offsetMs }, true);
    } else if (!skewed && this.skewReported !== null) {
      this.skewReported = null;
      this.emit('clock_skew', { offsetMs }, false);
    }
  }

  get clockTrusted(): boolean {
    return this.offsetMs !== null && Math.abs(this.offsetMs) <= this.o.clockSkewThresholdMs;
  }

  authStopped(attempts: number): void {
    if (this.authReported) return;
    this.authReported = true;
    this.emit('auth_failed', { attempts }, true);
  }

  authRecovered(): void {
    if (!this.authReported) return;
    this.authReported = false;
    this.emit('auth_failed', { attempts: 0 }, false);
  }

  get authBlocked(): boolean {
    return this.authReported;
  }

  /** A sentence for the panel about the current trouble (null when all is well). */
  setNote(note: string | null): void {
    this.note = note;
  }

  snapshot(): DeviceHealth {
    const details: string[] = [];
    if (this.authReported) details.push('login refused repeatedly: stopped trying so the camera account is not locked; fix the ONVIF user name/password');
    if (this.offsetMs !== null && Math.abs(this.offsetMs) > this.o.clockSkewThresholdMs)
      details.push(`camera clock off by ${this.offsetMs > 0 ? '+' : ''}${Math.round(this.offsetMs / 1000)} s: set NTP on the camera`);
    if (this.o.eventsEnabled && !this.channelAlive && this.reachable && this.lastChannelReason) details.push(`event channel: ${this.lastChannelReason}`);
    if (this.note) details.push(this.note);
    return {
      deviceId: this.deviceId,
      reachable: this.reachable,
      eventChannel: this.o.eventsEnabled ? (this.channelAlive ? 'alive' : 'lost') : 'n/a',
      lastSeen: this.lastSeen,
      ...(details.length ? { detail: details.join('; ').slice(0, 500) } : {}),
    };
  }

  stop(): void {
    this.offlineTimer?.cancel();
    this.offlineTimer = null;
  }
}
