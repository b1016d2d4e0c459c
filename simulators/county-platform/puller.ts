/**
 * The county as a puller: reads a box's pull API (GET /alarms, /events with
 * long-poll), stores what it got (here: counts it), then commits its cursor
 * with POST /acks, so a restarted puller resumes where it was. With
 * writeBack, it answers each new alarm with 交办 (idempotent by requestId).
 * It speaks HTTP only, from docs/county-api.md.
 */
export interface PullerOptions {
  /** The box's HTTP base, e.g. http://127.0.0.1:8080. */
  base: string;
  token: string;
  writeBack?: boolean;
  waitSeconds?: number;
  limit?: number;
  log?: (line: string) => void;
}

interface Page<T> {
  items: T[];
  nextCursor: string;
  head: string;
}

export class Puller {
  private abort = new AbortController();
  private loops: Promise<void>[] = [];
  readonly alarms = new Map<string, { status: string; countyStatus: string | null; changeSeq: number }>();
  alarmChanges = 0;
  readonly events = new Set<string>();
  eventDuplicates = 0;
  readonly byKind: Record<string, number> = {};
  writeBacks = 0;
  errors = 0;
  readonly cursors: Record<string, string> = {};

  constructor(private readonly o: PullerOptions) {}

  private get api(): string {
    return `${this.o.base.replace(/\/$/, '')}/api/county/v1`;
  }

  start(): void {
    this.loops = [this.loop('alarms'), this.loop('events')];
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  /** One round of a stream (tests drive this directly): read after the committed cursor, take, commit. */
  async once(stream: 'alarms' | 'events', wait = 0): Promise<number> {
    const page = await this.call<Page<Record<string, unknown>>>('GET', `/${stream}?limit=${this.o.limit ?? 200}&wait=${wait}`);
    for (const item of page.items) await this.take(stream, item);
    if (page.items.length > 0 || this.cursors[stream] !== page.nextCursor) {
      await this.call('POST', '/acks', { stream, cursor: page.nextCursor });
      this.cursors[stream] = page.nextCursor;
    }
    return page.items.length;
  }

  private async loop(stream: 'alarms' | 'events'): Promise<void> {
    let backoff = 1000;
    while (!this.abort.signal.aborted) {
      try {
        const n = await this.once(stream, this.o.waitSeconds ?? 20);
        if (n > 0) this.o.log?.(`pulled ${n} ${stream} (cursor ${this.cursors[stream]})`);
        backoff = 1000;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.errors++;
        this.o.log?.(`pull ${stream}: ${(err as Error).message}; again in ${backoff / 1000} s`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(30_000, backoff * 2);
      }
    }
  }

  private async take(stream: 'alarms' | 'events', item: Record<string, unknown>): Promise<void> {
    if (stream === 'events') {
      const id = String(item.eventId);
      if (this.events.has(id)) this.eventDuplicates++;
      this.events.add(id);
      const kind = String(item.kind);
      this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
      return;
    }
    const a = item as { id: string; status: string; countyStatus: string | null; changeSeq: number };
    const isNew = !this.alarms.has(a.id);
    this.alarms.set(a.id, { status: a.status, countyStatus: a.countyStatus, changeSeq: a.changeSeq });
    this.alarmChanges++;
    if (this.o.writeBack && isNew && a.countyStatus === null && a.status !== 'resolved' && a.status !== 'false_alarm') {
      await this.call('POST', `/alarms/${encodeURIComponent(a.id)}/status`, {
        status: '交办',
        note: '已交办网格员现场核查',
        operator: '县综治中心值班员',
        requestId: `assign-${a.id}`,
      });
      this.writeBacks++;
    }
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.o.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: this.abort.signal,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  report(): {
    alarms: number;
    alarmChanges: number;
    events: number;
    eventDuplicates: number;
    byKind: Record<string, number>;
    writeBacks: number;
    errors: number;
    cursors: Record<string, string>;
  } {
    return {
      alarms: this.alarms.size,
      alarmChanges: this.alarmChanges,
      events: this.events.size,
      eventDuplicates: this.eventDuplicates,
      byKind: { ...this.byKind },
      writeBacks: this.writeBacks,
      errors: this.errors,
      cursors: { ...this.cursors },
    };
  }

  summary(): string {
    const r = this.report();
    return `county puller: ${r.alarms} alarms (${r.alarmChanges} changes), ${r.events} events (${r.eventDuplicates} duplicates), ${r.writeBacks} write-backs, ${r.errors} errors, cursors ${JSON.stringify(r.cursors)}`;
  }
}
