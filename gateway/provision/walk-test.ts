import type { StoredEvent } from '../core/events.ts';
import type { PanelDeps } from '../panel/deps.ts';
import type { LiveHub } from '../panel/live.ts';
import type { WalkHit, WalkTest } from '../store/walk-tests.ts';

/** Kinds the box raises about a device's health: they do not show the installer triggered it. */
const NOT_A_TRIGGER = new Set(['device_offline', 'device_silent', 'event_channel_lost', 'clock_skew', 'auth_failed']);

/**
 * The walk test (走测): the installer starts it, walks the site triggering
 * every device, and each device passes with the first event it sends after
 * the start. Passes are stored (they go into the acceptance report) and
 * pushed to open pages as they happen.
 */
export class WalkTestService {
  private test: WalkTest | null = null;
  private passed = new Set<string>();
  private off: (() => void) | null = null;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: PanelDeps,
    private readonly hub: LiveHub,
  ) {}

  async init(): Promise<void> {
    const t = await this.deps.data.walkTests.latest();
    if (t && t.finishedAt === null) {
      this.test = t;
      for (const h of await this.deps.data.walkTests.hits(t.id)) this.passed.add(h.deviceId);
    }
    this.off = this.deps.bus.on('event.stored', (e) => this.onEvent(e));
  }

  stop(): void {
    this.off?.();
  }

  async start(by: string, devices?: readonly string[]): Promise<WalkTest> {
    const ids = devices?.length
      ? devices
      : this.deps
          .config()
          .devices.filter((d) => d.enabled)
          .map((d) => d.id);
    this.test = await this.deps.data.walkTests.start(by, ids);
    this.passed.clear();
    this.hub.broadcast('walk', { testId: this.test.id, started: true });
    return this.test;
  }

  async finish(): Promise<void> {
    if (!this.test) return;
    await this.pending;
    await this.deps.data.walkTests.finish(this.test.id);
    this.hub.broadcast('walk', { testId: this.test.id, finished: true });
    this.test = null;
  }

  /** The running or latest test, each device with its pass. */
  async status() {
    await this.pending;
    const t = this.test ?? (await this.deps.data.walkTests.latest()) ?? null;
    const hits = t ? await this.deps.data.walkTests.hits(t.id) : [];
    const byId = new Map<string, WalkHit>(hits.map((h) => [h.deviceId, h]));
    const cfg = new Map(this.deps.config().devices.map((d) => [d.id, d]));
    return {
      test: t,
      running: t !== null && t.finishedAt === null,
      devices: (t?.devices ?? []).map((id) => {
        const d = cfg.get(id);
        const h = byId.get(id);
        return {
          id,
          name: d?.name ?? id,
          kind: d?.kind ?? null,
          place: d?.place ?? null,
          passed: h !== undefined,
          at: h?.at ?? null,
          eventKind: h?.kind ?? null,
        };
      }),
    };
  }

  private onEvent(e: StoredEvent): void {
    const t = this.test;
    if (!t || NOT_A_TRIGGER.has(e.kind) || this.passed.has(e.deviceId) || !t.devices.includes(e.deviceId)) return;
    this.passed.add(e.deviceId);
    const hit: WalkHit = { deviceId: e.deviceId, at: e.receivedAt, eventId: e.id, kind: e.kind };
    this.pending = this.pending
      .then(() => this.deps.data.walkTests.hit(t.id, hit))
      .catch((err: Error) => this.deps.log.error({ err, deviceId: e.deviceId }, 'walk test: could not record a pass'));
    this.hub.broadcast('walk', { testId: t.id, ...hit });
  }
}
