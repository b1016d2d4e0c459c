import { createHash } from 'node:crypto';
import { CameraAuth } from './auth.ts';
import { initialized, toMessage, type QueuedMessage } from './render.ts';
import type { CameraSpec, Flavour, SimClock, SimEvent, SimTimer } from './types.ts';

/** A subscription as the camera holds it. */
export interface Subscription {
  id: string;
  createdAt: number;
  /** Sim clock ms when the camera drops it (real termination times: nothing renews it for you). */
  terminatesAt: number;
  queue: QueuedMessage[];
  pending: PendingPull | null;
  /** Dropped silently: still answers, never delivers again. */
  zombie: boolean;
  timer: SimTimer;
}

interface PendingPull {
  limit: number;
  timer: SimTimer;
  respond: (messages: QueuedMessage[]) => void;
}

export interface CameraStats {
  creates: number;
  createsRefusedCap: number;
  renews: number;
  unsubscribes: number;
  pulls: number;
  /** PullMessages refused because another pull was already waiting on the same subscription. */
  concurrentPulls: number;
  syncs: number;
  expired: number;
  emitted: number;
  /** Messages dropped because a subscription's queue was full (nobody pulling). */
  overflow: number;
  snapshots: number;
  soapRequests: number;
  byOperation: Record<string, number>;
}

export interface CameraFaults {
  /** Camera clock minus real time. */
  clockSkewMs: number;
  /** Most subscriptions the camera holds at once (zombies count: it still thinks they exist). */
  maxSubscriptions: number;
  /** Every SOAP answer is delayed this long. */
  slowMs: number;
  /** The events service (create and every subscription) answers 503 while the device service works. */
  eventsDown: boolean;
  /** GetSystemDateAndTime answers without a date (cheap IPCs do). */
  noDate: boolean;
}

const QUEUE_MAX = 1000;
export const MAX_PULL_TIMEOUT_MS = 5 * 60_000;

export class SimCamera {
  readonly auth: CameraAuth;
  readonly flavour: Flavour;
  readonly urn: string;
  readonly faults: CameraFaults = { clockSkewMs: 0, maxSubscriptions: 10, slowMs: 0, eventsDown: false, noDate: false };
  readonly stats: CameraStats = {
    creates: 0,
    createsRefusedCap: 0,
    renews: 0,
    unsubscribes: 0,
    pulls: 0,
    concurrentPulls: 0,
    syncs: 0,
    expired: 0,
    emitted: 0,
    overflow: 0,
    snapshots: 0,
    soapRequests: 0,
    byOperation: {},
  };
  readonly subscriptions = new Map<string, Subscription>();
  /** Current state of every property (for Initialized snapshots), by topic+source. */
  private properties = new Map<string, QueuedMessage>();
  private nextSub = 1;
  ptzPreset: string | null = null;
  readonly presets: { token: string; name: string }[];
  /** Set by the server: where the camera is reachable (for addresses in answers). */
  address = '127.0.0.1';
  port = 0;

  constructor(
    readonly spec: CameraSpec,
    readonly clock: SimClock,
  ) {
    this.flavour = spec.flavour ?? 'standard';
    this.urn = `urn:uuid:${uuidFrom(spec.id)}`;
    this.auth = new CameraAuth(clock, spec.username, spec.password, `Shouwang sim, ${spec.id}`, () => this.now());
    this.presets = spec.ptz
      ? [
          { token: '1', name: '大门全景' },
          { token: '2', name: '车行道' },
          { token: '3', name: '围墙东段' },
        ]
      : [];
    // The properties a camera reports from the start (all quiet).
    for (const type of ['motion', 'tamper', 'intrusion'] as const) this.setProperty(toMessage(this.flavour, { type, active: false }, this.now(), 'Changed'));
    for (let i = 1; i <= (spec.inputs ?? 1); i++) {
      const source = this.flavour === 'hikvision' ? `AlarmIn_${i}` : `DigitalInput_${i}`;
      this.setProperty(toMessage(this.flavour, { type: 'input', active: false, source }, this.now(), 'Changed'));
    }
  }

  get id(): string {
    return this.spec.id;
  }

  /** Camera time: the simulator's clock plus the configured skew. */
  now(): number {
    return this.clock.now() + this.faults.clockSkewMs;
  }

  get deviceUrl(): string {
    return `http://${this.address}:${this.port}/onvif/device_service`;
  }

  subscriptionUrl(id: string): string {
    return `http://${this.address}:${this.port}/onvif/subscription/${id}`;
  }

  /** Live subscriptions (zombies included: the camera still counts them). */
  get activeSubscriptions(): number {
    return this.subscriptions.size;
  }

  // ---------------------------------------------------------------- events

  /** Raise an event now; every live subscription gets it. Returns what was queued. */
  emit(e: SimEvent): QueuedMessage {
    const m = toMessage(this.flavour, e, this.now(), 'Changed');
    if (m.property) this.setProperty(m);
    this.stats.emitted++;
    for (const s of this.subscriptions.values()) if (!s.zombie) this.deliver(s, [m]);
    return m;
  }

  private setProperty(m: QueuedMessage): void {
    this.properties.set(`${m.topic}|${JSON.stringify(m.source)}|${JSON.stringify(m.key)}`, m);
  }

  private deliver(s: Subscription, messages: QueuedMessage[]): void {
    s.queue.push(...messages);
    if (s.queue.length > QUEUE_MAX) {
      this.stats.overflow += s.queue.length - QUEUE_MAX;
      s.queue.splice(0, s.queue.length - QUEUE_MAX);
    }
    if (s.pending) this.flush(s);
  }

  private flush(s: Subscription): void {
    const p = s.pending;
    if (!p) return;
    s.pending = null;
    p.timer.cancel();
    p.respond(s.queue.splice(0, p.limit));
  }

  // ---------------------------------------------------------------- subscriptions

  createSubscription(lifetimeMs: number): Subscription | 'cap' {
    if (this.subscriptions.size >= this.faults.maxSubscriptions) {
      this.stats.createsRefusedCap++;
      return 'cap';
    }
    this.stats.creates++;
    const id = String(this.nextSub++);
    const s: Subscription = { id, createdAt: this.clock.now(), terminatesAt: 0, queue: [], pending: null, zombie: false, timer: { cancel() {} } };
    this.subscriptions.set(id, s);
    this.setTermination(s, lifetimeMs);
    // Like most firmware, a new subscription starts with the current state of every property.
    this.deliver(s, this.snapshot());
    return s;
  }

  private snapshot(): QueuedMessage[] {
    return [...this.properties.values()].map((m) => initialized(this.flavour, m, this.now()));
  }

  setTermination(s: Subscription, lifetimeMs: number): void {
    s.timer.cancel();
    s.terminatesAt = this.clock.now() + Math.max(1000, lifetimeMs);
    s.timer = this.clock.setTimer(s.terminatesAt - this.clock.now(), () => {
      if (this.subscriptions.get(s.id) !== s) return;
      this.stats.expired++;
      this.remove(s);
    });
  }

  renew(s: Subscription, lifetimeMs: number): void {
    this.stats.renews++;
    this.setTermination(s, lifetimeMs);
  }

  unsubscribe(s: Subscription): void {
    this.stats.unsubscribes++;
    this.remove(s);
  }

  private remove(s: Subscription): void {
    s.timer.cancel();
    this.subscriptions.delete(s.id);
    if (s.pending) {
      // A pull waiting on a subscription that ends gets an empty answer now.
      const p = s.pending;
      s.pending = null;
      p.timer.cancel();
      p.respond([]);
    }
  }

  sync(s: Subscription): void {
    this.stats.syncs++;
    if (!s.zombie) this.deliver(s, this.snapshot());
  }

  /** Wait for messages (long poll); answers at once when some are queued. False: another pull is already waiting. */
  pull(s: Subscription, limit: number, timeoutMs: number, respond: (messages: QueuedMessage[]) => void): boolean {
    this.stats.pulls++;
    if (s.pending) {
      this.stats.concurrentPulls++;
      return false;
    }
    const timer = this.clock.setTimer(Math.min(timeoutMs, MAX_PULL_TIMEOUT_MS), () => {
      if (s.pending?.timer !== timer) return;
      s.pending = null;
      respond(s.zombie ? [] : s.queue.splice(0, limit));
    });
    s.pending = { limit: Math.max(1, limit), timer, respond };
    if (s.queue.length && !s.zombie) this.flush(s);
    return true;
  }

  /** The client of a waiting pull went away (connection closed): forget that pull. */
  cancelPull(s: Subscription, respond: (messages: QueuedMessage[]) => void): void {
    if (s.pending?.respond !== respond) return;
    s.pending.timer.cancel();
    s.pending = null;
  }

  /**
   * The camera loses its subscriptions. 'fault': they are forgotten (requests on them fault, as after a
   * reboot). 'silent': they keep answering — pulls return empty, Renew and SetSynchronizationPoint
   * succeed — but never deliver again (the failure that is only caught by checking sync points).
   */
  dropSubscriptions(mode: 'fault' | 'silent'): number {
    const n = this.subscriptions.size;
    for (const s of [...this.subscriptions.values()]) {
      if (mode === 'fault') this.remove(s);
      else {
        s.zombie = true;
        s.queue = [];
      }
    }
    return n;
  }

  /** Stop: answer every waiting pull (empty) and forget all subscriptions. */
  close(): void {
    for (const s of [...this.subscriptions.values()]) this.remove(s);
  }

  count(op: string): void {
    this.stats.soapRequests++;
    this.stats.byOperation[op] = (this.stats.byOperation[op] ?? 0) + 1;
  }
}

/** A stable UUID per camera id (so discovery answers are the same across runs). */
export function uuidFrom(id: string): string {
  const h = createHash('sha1').update(`shouwang-sim-camera:${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
