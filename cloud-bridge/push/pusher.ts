import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../gateway/core/clock.ts';
import type { Component } from '../../gateway/core/component.ts';
import { backoffMs, type Outbox, type OutboxEntry } from '../../gateway/core/outbox.ts';
import { Pacer, type PacerOptions } from './pacer.ts';
import { makeBatch, type Ack, type SendOutcome, type Transport } from './wire.ts';

export interface PusherOptions {
  boxId: string;
  outbox: Outbox;
  transport: Transport;
  clock: Clock;
  log: Logger;
  batchSize: number;
  /** Once the outbox has been backlogged this long, lower lanes get the store's fair share of each batch. */
  fairAfterMs: number;
  pacing: PacerOptions;
  /** Transport backoff (county down, 5xx, timeouts): jittered exponential between these. */
  backoff?: { baseMs: number; capMs: number };
  /** How often to look at an idle outbox when nothing wakes the pusher. */
  idlePollMs?: number;
  random?: () => number;
}

export interface StepResult {
  why: 'idle' | 'paced' | 'backoff' | 'sent' | 'unavailable';
  waitMs: number;
  sent: number;
  accepted: number;
  rejected: number;
}

export interface PushStats {
  state: 'idle' | 'sending' | 'backoff' | 'stopped';
  mode: Pacer['mode'];
  rate: number;
  batches: number;
  sent: number;
  accepted: number;
  deadLettered: number;
  retried: number;
  failures: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastAckAt: number | null;
}

const OMISSION_WARN = 5;
const LOG_EVERY_MS = 60_000;

/**
 * Drains the outbox to the county, one batch in flight: alarms first, then
 * records, then status (strictly by lane until the outbox has been
 * backlogged for fairAfterMs, then with the store's fair share, 10 % for each
 * lower lane), order kept within a lane. Only the county's application ack moves
 * an entry: accepted ids leave, rejected ones go to dead-letter with the
 * reason, ids it did not name are sent again. A batch the county refuses as a
 * whole is split until the entry it objects to stands alone. Transport
 * failures back off with jitter (Retry-After when given) and never count
 * against entries, so a week-long outage dead-letters nothing.
 */
export class Pusher implements Component {
  readonly name = 'county-push';
  private readonly pacer: Pacer;
  private running = false;
  private timer: TimerHandle | null = null;
  private idleWait = false;
  private dirty = false;
  private inFlight: Promise<unknown> | null = null;
  private blockedUntil = 0;
  private backloggedSince: number | null = null;
  private omitted = new Map<string, number>();
  private lastLog = new Map<string, number>();
  private downSince: number | null = null;
  private readonly s: PushStats = {
    state: 'idle',
    mode: 'replay',
    rate: 0,
    batches: 0,
    sent: 0,
    accepted: 0,
    deadLettered: 0,
    retried: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastError: null,
    lastAckAt: null,
  };

  constructor(private readonly o: PusherOptions) {
    this.pacer = new Pacer(o.pacing, o.clock);
  }

  async start(): Promise<void> {
    await this.o.transport.start();
    this.running = true;
    this.schedule(0, false);
    this.o.log.info({ transport: this.o.transport.name, batchSize: this.o.batchSize }, 'county push started');
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    // Stopping the transport first cuts a batch in flight short (its entries stay in the outbox), so a slow county never holds up shutdown.
    await this.o.transport.stop();
    await this.inFlight?.catch(() => {});
    this.s.state = 'stopped';
  }

  /** Something was enqueued: an idle pusher looks at once (a backing-off or paced one keeps its wait). */
  wake(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    if (this.idleWait) this.schedule(0, false);
  }

  stats(): PushStats {
    return { ...this.s, mode: this.pacer.mode, rate: Math.round(this.pacer.rate) };
  }

  /** One turn of the loop: send one batch if it is time. Tests drive this directly on a FakeClock. */
  async step(): Promise<StepResult> {
    const none = { sent: 0, accepted: 0, rejected: 0 };
    const now = this.o.clock.monotonic();
    if (this.blockedUntil > now) return { why: 'backoff', waitMs: this.blockedUntil - now, ...none };
    const paced = this.pacer.wait();
    if (paced > 0) return { why: 'paced', waitMs: paced, ...none };
    const fair = this.backloggedSince !== null && now - this.backloggedSince >= this.o.fairAfterMs;
    const entries = await this.o.outbox.next(this.o.batchSize, fair ? {} : { fairShare: 0 });
    if (entries.length === 0) {
      this.backloggedSince = null;
      this.s.state = 'idle';
      return { why: 'idle', waitMs: this.o.idlePollMs ?? 1000, ...none };
    }
    const full = entries.length >= this.o.batchSize;
    if (full) this.backloggedSince ??= now;
    else this.backloggedSince = null;
    this.s.state = 'sending';
    this.pacer.sent(entries.length);
    const r = await this.deliver(entries);
    this.s.batches++;
    this.s.sent += entries.length;
    if (r.outcome) {
      // An outage starves no lane in favour of another: the fairness clock counts only backlog that is moving.
      this.backloggedSince = null;
      this.onUnavailable(r.outcome, entries.length);
      return {
        why: 'unavailable',
        waitMs: Math.max(0, this.blockedUntil - this.o.clock.monotonic()),
        sent: entries.length,
        accepted: r.accepted,
        rejected: r.rejected,
      };
    }
    if (this.downSince !== null) {
      this.o.log.info({ downForSeconds: Math.round((this.o.clock.now() - this.downSince) / 1000) }, 'county reachable again: replaying the backlog');
      this.downSince = null;
    }
    this.s.consecutiveFailures = 0;
    this.pacer.answered(r.rttMs, full);
    return { why: 'sent', waitMs: this.pacer.wait(), sent: entries.length, accepted: r.accepted, rejected: r.rejected };
  }

  /** Send entries; a batch refused as a whole is split in halves until the offending entry stands alone. */
  private async deliver(
    entries: OutboxEntry[],
  ): Promise<{ accepted: number; rejected: number; rttMs: number; outcome?: Extract<SendOutcome, { kind: 'unavailable' }> }> {
    const outcome = await this.o.transport.send(makeBatch(entries, this.o.boxId, this.o.clock.now()));
    if (outcome.kind === 'unavailable') return { accepted: 0, rejected: 0, rttMs: 0, outcome };
    if (outcome.kind === 'ack') return { ...(await this.settle(entries, outcome.ack)), rttMs: outcome.rttMs };
    if (entries.length === 1) {
      const e = entries[0]!;
      await this.o.outbox.deadLetter([e.id], `refused by the county: ${outcome.reason}`);
      this.s.deadLettered++;
      this.o.log.warn(
        { seq: e.seq, id: e.id, type: e.type, reason: outcome.reason },
        'the county refused an entry: moved to dead-letter (visible to the installer); its lane goes on',
      );
      return { accepted: 0, rejected: 1, rttMs: 0 };
    }
    const mid = Math.ceil(entries.length / 2);
    const a = await this.deliver(entries.slice(0, mid));
    if (a.outcome) return a;
    const b = await this.deliver(entries.slice(mid));
    return {
      accepted: a.accepted + b.accepted,
      rejected: a.rejected + b.rejected,
      rttMs: Math.max(a.rttMs, b.rttMs),
      ...(b.outcome ? { outcome: b.outcome } : {}),
    };
  }

  private async settle(entries: OutboxEntry[], ack: Ack): Promise<{ accepted: number; rejected: number }> {
    const inBatch = new Map(entries.map((e) => [e.id, e]));
    const accepted = [...new Set(ack.accepted.filter((id) => inBatch.has(id)))];
    const acceptedSet = new Set(accepted);
    const dead = new Map<string, string[]>();
    const retry = new Map<string, string[]>();
    for (const r of ack.rejected) {
      if (!inBatch.has(r.id) || acceptedSet.has(r.id)) continue;
      const into = r.retryable ? retry : dead;
      const list = into.get(r.reason) ?? [];
      list.push(r.id);
      into.set(r.reason, list);
    }
    const strangers = ack.accepted.length + ack.rejected.length - accepted.length - [...dead.values(), ...retry.values()].flat().length;
    if (strangers > 0) this.logEvery('strangers', 'warn', { count: strangers }, 'the county acked ids that were not in the batch: ignored');
    if (accepted.length) await this.o.outbox.ack(accepted);
    for (const [reason, ids] of dead) {
      await this.o.outbox.deadLetter(ids, `rejected by the county: ${reason}`);
      this.o.log.warn(
        { count: ids.length, reason, seqs: ids.slice(0, 10).map((id) => inBatch.get(id)!.seq) },
        'the county rejected entries: moved to dead-letter (visible to the installer); their lanes go on',
      );
    }
    for (const [reason, ids] of retry) {
      await this.o.outbox.fail(ids, `the county asked to retry: ${reason}`);
      this.s.retried += ids.length;
    }
    const rejected = [...dead.values()].reduce((n, l) => n + l.length, 0);
    this.s.accepted += accepted.length;
    this.s.deadLettered += rejected;
    this.s.lastAckAt = this.o.clock.now();
    // Ids the ack did not name are sent again; say so if the county keeps leaving one out.
    const named = new Set([...acceptedSet, ...ack.rejected.map((r) => r.id)]);
    for (const id of named) this.omitted.delete(id);
    for (const e of entries) {
      if (named.has(e.id)) continue;
      const n = (this.omitted.get(e.id) ?? 0) + 1;
      this.omitted.set(e.id, n);
      if (n === OMISSION_WARN)
        this.o.log.warn({ seq: e.seq, id: e.id, times: n }, 'the county keeps leaving this entry out of its acks; it is sent again each time');
    }
    if (this.omitted.size > 10_000) this.omitted.clear();
    return { accepted: accepted.length, rejected };
  }

  private onUnavailable(o: Extract<SendOutcome, { kind: 'unavailable' }>, waiting: number): void {
    this.s.failures++;
    this.s.consecutiveFailures++;
    this.s.lastError = o.reason;
    this.s.state = 'backoff';
    const { baseMs, capMs } = this.o.backoff ?? { baseMs: 1000, capMs: 60_000 };
    const wait = o.retryAfterMs ?? backoffMs(this.s.consecutiveFailures, baseMs, capMs, this.o.random);
    this.blockedUntil = this.o.clock.monotonic() + wait;
    if (o.pushback) this.pacer.pushback();
    else this.pacer.outage();
    if (this.downSince === null) this.downSince = this.o.clock.now();
    const fields = { reason: o.reason, retryInMs: wait, consecutiveFailures: this.s.consecutiveFailures, batch: waiting };
    if (o.auth)
      this.logEvery('auth', 'error', fields, 'the county refused the request: check upstream.county (url, auth); nothing is lost, the outbox keeps everything');
    else this.logEvery('down', 'warn', fields, 'county not reachable or pushing back: backing off; the outbox keeps everything');
  }

  private logEvery(key: string, level: 'warn' | 'error', fields: object, msg: string): void {
    const now = this.o.clock.monotonic();
    const last = this.lastLog.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    this.lastLog.set(key, now);
    this.o.log[level](fields, msg);
  }

  private schedule(ms: number, idle: boolean): void {
    this.timer?.cancel();
    this.idleWait = idle;
    this.timer = this.o.clock.setTimer(ms, () => {
      this.timer = null;
      this.idleWait = false;
      void this.turn();
    });
  }

  private async turn(): Promise<void> {
    if (!this.running || this.inFlight) return;
    this.dirty = false;
    const run = this.step().catch((err: Error): StepResult => {
      this.o.log.error({ err }, 'county push step failed; trying again in 1 s');
      return { why: 'backoff', waitMs: 1000, sent: 0, accepted: 0, rejected: 0 };
    });
    this.inFlight = run;
    const r = await run;
    this.inFlight = null;
    if (!this.running) return;
    if (r.why === 'idle' && this.dirty) this.schedule(0, false);
    else this.schedule(r.waitMs, r.why === 'idle');
  }
}
