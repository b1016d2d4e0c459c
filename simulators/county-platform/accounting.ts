/**
 * What the county platform received, per box: the proof (or not) that it
 * missed nothing. An envelope is "handled" when it was accepted once or
 * refused by us; a seq between the lowest and highest handled that is not
 * handled is a gap. A second envelope with an id already accepted is a
 * duplicate and is dropped (acked again, not processed again).
 *
 * This file is the county's own: it shares no code with the gateway.
 */

export const ENVELOPE_TYPES = ['alarm.opened', 'alarm.updated', 'event', 'device.status', 'box.heartbeat', 'box.loss'] as const;
export const LANES = ['alarm', 'record', 'status'] as const;
export type Lane = (typeof LANES)[number];

export interface Envelope {
  boxId: string;
  seq: number;
  id: string;
  type: (typeof ENVELOPE_TYPES)[number];
  lane: Lane;
  occurredAt: string;
  sentAt: string;
  body: unknown;
}

const RECEIVED = 1;
const REFUSED = 2;

/** A growable typed array indexed by seq. */
class SeqArray<T extends Uint8Array | Float32Array> {
  constructor(
    public a: T,
    private readonly make: (n: number) => T,
  ) {}
  ensure(i: number): void {
    if (i < this.a.length) return;
    let n = this.a.length || 1024;
    while (n <= i) n *= 2;
    const b = this.make(n);
    b.set(this.a);
    this.a = b;
  }
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface BoxReport {
  boxId: string;
  received: number;
  duplicates: number;
  rejected: number;
  seqConflicts: number;
  firstSeq: number | null;
  maxSeq: number | null;
  highestContiguousSeq: number | null;
  gaps: number;
  gapRanges: [number, number][];
  byType: Record<string, number>;
  byLane: Record<string, { count: number; firstArrival: number | null; lastArrival: number | null }>;
  /** Arrival minus occurredAt (event to county) and arrival minus sentAt (transit), in ms. */
  latencyMs: Percentiles;
  transitMs: Percentiles;
  alarms: { distinct: number; changes: number };
  devices: Record<string, { online: boolean | null; eventChannel: string; at: string }>;
  lossReported: number;
  lastHeartbeat: unknown;
  /** The box's own last seq (from its heartbeat) minus what arrived contiguously: how far behind the county is. */
  behind: number | null;
  rejections: { seq: number | null; id: string; reason: string }[];
}

class BoxAccount {
  received = 0;
  duplicates = 0;
  rejected = 0;
  seqConflicts = 0;
  private ids = new Set<string>();
  private handled = new SeqArray(new Uint8Array(1024), (n) => new Uint8Array(n));
  private latency = new SeqArray(new Float32Array(1024), (n) => new Float32Array(n));
  private transit = new SeqArray(new Float32Array(1024), (n) => new Float32Array(n));
  private minSeq = Infinity;
  private maxSeq = 0;
  private handledCount = 0;
  private contiguous = 0;
  private arrivals = 0;
  byType: Record<string, number> = {};
  byLane: Record<string, { count: number; firstArrival: number | null; lastArrival: number | null }> = {};
  alarms = new Map<string, { status: string; countyStatus: string | null; changeSeq: number }>();
  alarmChanges = 0;
  devices: Record<string, { online: boolean | null; eventChannel: string; at: string }> = {};
  lossReported = 0;
  lastHeartbeat: { lastSeq?: number } | null = null;
  rejections: { seq: number | null; id: string; reason: string }[] = [];

  constructor(readonly boxId: string) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** First receipt of an envelope. */
  take(e: Envelope, arrivalMs: number): void {
    if (this.handled.a[e.seq] !== 0 && this.handled.a[e.seq] !== undefined && !this.ids.has(e.id)) this.seqConflicts++;
    this.ids.add(e.id);
    this.mark(e.seq, RECEIVED);
    this.received++;
    this.latency.ensure(e.seq);
    this.transit.ensure(e.seq);
    this.latency.a[e.seq] = Math.max(0, arrivalMs - Date.parse(e.occurredAt));
    this.transit.a[e.seq] = Math.max(0, arrivalMs - Date.parse(e.sentAt));
    this.byType[e.type] = (this.byType[e.type] ?? 0) + 1;
    const lane = (this.byLane[e.lane] ??= { count: 0, firstArrival: null, lastArrival: null });
    const n = ++this.arrivals;
    lane.count++;
    lane.firstArrival ??= n;
    lane.lastArrival = n;
    const body = e.body as Record<string, unknown>;
    if (e.type === 'alarm.opened' || e.type === 'alarm.updated') {
      const a = body.alarm as { id: string; status: string; countyStatus: string | null; changeSeq: number };
      const known = this.alarms.get(a.id);
      // Changes of one alarm may arrive out of order (partial acks): keep the newest.
      if (!known || known.changeSeq < a.changeSeq) this.alarms.set(a.id, { status: a.status, countyStatus: a.countyStatus, changeSeq: a.changeSeq });
      this.alarmChanges++;
    } else if (e.type === 'box.heartbeat') this.lastHeartbeat = body as { lastSeq?: number };
    else if (e.type === 'box.loss') this.lossReported += typeof body.count === 'number' ? body.count : 0;
    else if (e.type === 'device.status') {
      const id = String(body.deviceId);
      this.devices[id] = { online: (body.online as boolean | null) ?? null, eventChannel: String(body.eventChannel), at: e.occurredAt };
    }
  }

  /** We refused it for good: it is accounted for (not a gap), and listed. */
  refuse(seq: number | null, id: string, reason: string): void {
    if (seq !== null && !this.handled.a[seq]) {
      this.rejected++;
      this.mark(seq, REFUSED);
    }
    if (this.rejections.length < 1000) this.rejections.push({ seq, id, reason });
  }

  duplicate(): void {
    this.duplicates++;
  }

  private mark(seq: number, how: number): void {
    this.handled.ensure(seq);
    if (this.handled.a[seq]) return;
    this.handled.a[seq] = how;
    this.handledCount++;
    if (seq < this.minSeq) {
      this.minSeq = seq;
      this.contiguous = seq - 1;
    }
    if (seq > this.maxSeq) this.maxSeq = seq;
    while (this.contiguous + 1 < this.handled.a.length && this.handled.a[this.contiguous + 1]) this.contiguous++;
  }

  report(latencyAfterSeq = 0): BoxReport {
    const first = this.minSeq === Infinity ? null : this.minSeq;
    const gapRanges: [number, number][] = [];
    let gaps = 0;
    if (first !== null) {
      gaps = this.maxSeq - first + 1 - this.handledCount;
      for (let s = this.contiguous + 1; s <= this.maxSeq && gapRanges.length < 20; s++) {
        if (this.handled.a[s]) continue;
        let e = s;
        while (e + 1 <= this.maxSeq && !this.handled.a[e + 1]) e++;
        gapRanges.push([s, e]);
        s = e;
      }
    }
    const lat: number[] = [];
    const tr: number[] = [];
    for (let s = Math.max(latencyAfterSeq + 1, first ?? 1); s <= this.maxSeq; s++) {
      if (this.handled.a[s] !== RECEIVED) continue;
      lat.push(this.latency.a[s] ?? 0);
      tr.push(this.transit.a[s] ?? 0);
    }
    const lastSeq = this.lastHeartbeat?.lastSeq;
    return {
      boxId: this.boxId,
      received: this.received,
      duplicates: this.duplicates,
      rejected: this.rejected,
      seqConflicts: this.seqConflicts,
      firstSeq: first,
      maxSeq: first === null ? null : this.maxSeq,
      highestContiguousSeq: first === null ? null : this.contiguous,
      gaps,
      gapRanges,
      byType: { ...this.byType },
      byLane: structuredClone(this.byLane),
      latencyMs: percentiles(lat),
      transitMs: percentiles(tr),
      alarms: { distinct: this.alarms.size, changes: this.alarmChanges },
      devices: { ...this.devices },
      lossReported: this.lossReported,
      lastHeartbeat: this.lastHeartbeat,
      behind: typeof lastSeq === 'number' && first !== null ? Math.max(0, lastSeq - this.contiguous) : null,
      rejections: this.rejections.slice(0, 50),
    };
  }
}

function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! * 10) / 10;
  return { count: s.length, p50: at(50), p90: at(90), p99: at(99), max: Math.round(s[s.length - 1]! * 10) / 10 };
}

export interface Verdict {
  id: string;
  ok: boolean;
  reason?: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Why an envelope cannot be taken, or null when it is fine. */
export function invalid(e: unknown, batchBoxId: string, maxEnvelopeBytes: number): string | null {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'not an object';
  const x = e as Record<string, unknown>;
  if (typeof x.id !== 'string' || x.id.length === 0 || x.id.length > 100) return 'id: expected a string of 1..100 characters';
  if (x.boxId !== batchBoxId) return `boxId ${JSON.stringify(x.boxId)} differs from the batch's ${JSON.stringify(batchBoxId)}`;
  if (typeof x.seq !== 'number' || !Number.isSafeInteger(x.seq) || x.seq < 1 || x.seq > 2 ** 40) return 'seq: expected a positive integer';
  if (typeof x.type !== 'string' || !(ENVELOPE_TYPES as readonly string[]).includes(x.type)) return `type ${JSON.stringify(x.type)} is unknown`;
  if (typeof x.lane !== 'string' || !(LANES as readonly string[]).includes(x.lane)) return `lane ${JSON.stringify(x.lane)} is unknown`;
  if (typeof x.occurredAt !== 'string' || !ISO.test(x.occurredAt)) return 'occurredAt: expected an ISO 8601 time';
  if (typeof x.sentAt !== 'string' || !ISO.test(x.sentAt)) return 'sentAt: expected an ISO 8601 time';
  if (typeof x.body !== 'object' || x.body === null) return 'body: expected an object';
  const size = Buffer.byteLength(JSON.stringify(x.body));
  if (size > maxEnvelopeBytes) return `body of ${size} bytes is larger than the ${maxEnvelopeBytes} bytes this platform takes`;
  if ((x.type === 'alarm.opened' || x.type === 'alarm.updated') && typeof (x.body as { alarm?: { id?: unknown } }).alarm?.id !== 'string')
    return 'body.alarm.id missing';
  return null;
}

export interface BatchResult {
  accepted: string[];
  rejected: { id: string; reason: string; retryable: boolean }[];
  /** Envelopes first seen in this batch. */
  fresh: number;
  duplicates: number;
  /** Ids already taken before: acked again, not processed again. */
  duplicateIds: string[];
}

export interface AccountingOptions {
  /**
   * Called once per envelope on its first receipt (not for duplicates, refusals or envelopes a
   * partial batch left out), with the arrival time (epoch ms): for per-envelope measurements such
   * as device publish → county receipt, which the per-box percentiles cannot give.
   */
  onReceipt?: (e: Envelope, arrivalMs: number) => void;
}

/** All boxes' accounts. */
export class Accounting {
  private boxes = new Map<string, BoxAccount>();
  readonly startedAt = Date.now();
  batches = 0;
  refusedBatches = 0;

  constructor(private readonly o: AccountingOptions = {}) {}

  private box(id: string): BoxAccount {
    let b = this.boxes.get(id);
    if (!b) this.boxes.set(id, (b = new BoxAccount(id)));
    return b;
  }

  /** Validate and take the envelopes of a batch; `take` decides (partial mode) which valid new ones are processed at all. */
  process(
    boxId: string,
    envelopes: readonly unknown[],
    opts: { maxEnvelopeBytes: number; take?: (i: number) => boolean } = { maxEnvelopeBytes: 65536 },
  ): BatchResult {
    const now = Date.now();
    const box = this.box(boxId);
    const out: BatchResult = { accepted: [], rejected: [], fresh: 0, duplicates: 0, duplicateIds: [] };
    this.batches++;
    envelopes.forEach((raw, i) => {
      const why = invalid(raw, boxId, opts.maxEnvelopeBytes);
      const e = raw as Envelope;
      const id = typeof e?.id === 'string' ? e.id : `#${i}`;
      if (why) {
        box.refuse(typeof e?.seq === 'number' && Number.isSafeInteger(e.seq) && e.seq > 0 && e.seq <= 2 ** 40 ? e.seq : null, id, why);
        out.rejected.push({ id, reason: why, retryable: false });
        return;
      }
      if (box.has(e.id)) {
        box.duplicate();
        out.duplicates++;
        out.duplicateIds.push(e.id);
        out.accepted.push(e.id);
        return;
      }
      if (opts.take && !opts.take(i)) return; // not processed: left out of the ack, the box sends it again
      box.take(e, now);
      this.o.onReceipt?.(e, now);
      out.fresh++;
      out.accepted.push(e.id);
    });
    return out;
  }

  /** Envelope validity alone (strict mode refuses a whole batch holding an invalid one). */
  anyInvalid(boxId: string, envelopes: readonly unknown[], maxEnvelopeBytes: number): string | null {
    for (const e of envelopes) {
      const why = invalid(e, boxId, maxEnvelopeBytes);
      if (why) return why;
    }
    return null;
  }

  report(opts: { latencyAfterSeq?: number } = {}): { uptimeSeconds: number; batches: number; refusedBatches: number; boxes: BoxReport[] } {
    return {
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      batches: this.batches,
      refusedBatches: this.refusedBatches,
      boxes: [...this.boxes.values()].map((b) => b.report(opts.latencyAfterSeq ?? 0)),
    };
  }

  alarmStates(boxId: string): Map<string, { status: string; countyStatus: string | null; changeSeq: number }> {
    return new Map(this.boxes.get(boxId)?.alarms ?? []);
  }

  /** A short text for people (printed on exit). */
  summary(): string {
    const r = this.report();
    const lines = [`county platform: ${r.batches} batches, ${r.refusedBatches} refused whole, up ${r.uptimeSeconds} s`];
    if (r.boxes.length === 0) lines.push('  no box has sent anything');
    for (const b of r.boxes) {
      lines.push(
        `  box ${b.boxId}: ${b.received} received, ${b.duplicates} duplicates dropped, ${b.rejected} rejected, seq ${b.firstSeq ?? '-'}..${b.maxSeq ?? '-'}, ` +
          `contiguous to ${b.highestContiguousSeq ?? '-'}, ${b.gaps} gaps${b.gapRanges.length ? ` ${JSON.stringify(b.gapRanges.slice(0, 5))}` : ''}` +
          `${b.behind !== null ? `, ${b.behind} behind the box` : ''}`,
      );
      lines.push(
        `    types ${JSON.stringify(b.byType)}; alarms ${b.alarms.distinct} (${b.alarms.changes} changes); latency p50 ${b.latencyMs.p50} ms p99 ${b.latencyMs.p99} ms; loss reported ${b.lossReported}`,
      );
    }
    return lines.join('\n');
  }
}
