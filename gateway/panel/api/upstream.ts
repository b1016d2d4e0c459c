import { LANES, type Lane } from '../../core/events.ts';
import type { PanelDeps, UpstreamLink } from '../deps.ts';
import { emptyQuery, route, type RouteDef } from '../route-table.ts';

interface Sample {
  at: number;
  lastSeq: number;
  depth: Record<Lane, number>;
}

/**
 * Samples the outbox every few seconds to tell how fast it drains: entries
 * enqueued (the box-wide outbox sequence) and the depth of each lane; what
 * left is what was enqueued minus what the depth grew.
 */
export class UpstreamMeter {
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private linkState: { connected: boolean; since: number } | null = null;

  constructor(
    private readonly deps: Pick<PanelDeps, 'store' | 'clock' | 'log' | 'upstream'>,
    private readonly everyMs = 10_000,
    private readonly keep = 60,
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The county link: connected while the push gets acks without failing. Since when is when the meter first saw
   * the current state (it looks on every sample and every request), or the last ack for a link up since start.
   */
  link(): UpstreamLink | null {
    const s = this.deps.upstream?.();
    if (!s) return null;
    const connected = s.state !== 'stopped' && s.consecutiveFailures === 0 && s.lastAckAt !== null;
    if (!this.linkState || this.linkState.connected !== connected) {
      this.linkState = { connected, since: this.linkState === null && connected ? s.lastAckAt! : this.deps.clock.now() };
    }
    return { connected, since: this.linkState.since, lastError: s.lastError, lastAckAt: s.lastAckAt, state: s.state, mode: s.mode };
  }

  async sample(): Promise<Sample> {
    this.link();
    const lanes = await this.deps.store.outbox.depth();
    const s: Sample = {
      at: this.deps.clock.now(),
      lastSeq: this.deps.store.outbox.lastSeq(),
      depth: Object.fromEntries(lanes.map((l) => [l.lane, l.depth])) as Record<Lane, number>,
    };
    // A sample taken at the same instant as the last one replaces it.
    if (this.samples.length && this.samples[this.samples.length - 1]!.at === s.at) this.samples.pop();
    this.samples.push(s);
    if (this.samples.length > this.keep) this.samples.shift();
    return s;
  }

  /** Rates per second over the sampled window, per lane for the drain; null until two samples exist. */
  rates(): { windowSeconds: number; enqueuedPerSecond: number; drainedPerSecond: number; drainedPerLane: Record<Lane, number | null> } | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return null;
    const secs = (last.at - first.at) / 1000;
    const enq = last.lastSeq - first.lastSeq;
    const total = (s: Sample) => LANES.reduce((n, l) => n + s.depth[l], 0);
    const drained = Math.max(0, enq - (total(last) - total(first)));
    // Per lane only a lower bound is known without per-lane sequences: what its depth fell by.
    const perLane = Object.fromEntries(LANES.map((l) => [l, Math.max(0, first.depth[l] - last.depth[l]) / secs])) as Record<Lane, number | null>;
    return { windowSeconds: secs, enqueuedPerSecond: enq / secs, drainedPerSecond: drained / secs, drainedPerLane: perLane };
  }
}

/** Upstream (county) status: link, backlog per lane with its age, drain rate and time to empty, dead letters with reasons. */
export function upstreamRoutes(deps: PanelDeps, meter: UpstreamMeter): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/upstream',
      allow: 'read',
      kind: 'api',
      summary: 'County link: connected since, backlog per lane, drain rate, time to empty, dead letters',
      schema: { querystring: emptyQuery },
      handler: async () => {
        const cfg = deps.config().upstream.county;
        const now = deps.clock.now();
        const lanes = await deps.store.outbox.depth();
        const rates = meter.rates();
        const depth = lanes.reduce((n, l) => n + l.depth, 0);
        const net = rates ? rates.drainedPerSecond - rates.enqueuedPerSecond : null;
        let target: string | null = null;
        try {
          target = cfg ? new URL(cfg.url).origin : null;
        } catch {
          target = null;
        }
        return {
          now,
          configured: cfg ? { enabled: cfg.enabled, target } : null,
          link: meter.link(),
          lanes: lanes.map((l) => ({ ...l, oldestAgeSeconds: l.oldestCreatedAt ? Math.round((now - l.oldestCreatedAt) / 1000) : null })),
          depth,
          rates,
          secondsToEmpty: depth === 0 ? 0 : net !== null && net > 0 ? Math.round(depth / net) : null,
          deadLetters: (await deps.store.outbox.deadLetters(50)).map((d) => ({
            id: d.id,
            seq: d.seq,
            lane: d.lane,
            type: d.type,
            occurredAt: d.occurredAt,
            attempts: d.attempts,
            reason: d.reason,
            deadAt: d.deadAt,
          })),
          lastSeq: deps.store.outbox.lastSeq(),
        };
      },
    }),
  ];
}
