import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DeviceHealth } from '../core/driver.ts';
import { BOX_DEVICE_ID, type StoredEvent } from '../core/events.ts';
import type { StoredAlarm } from '../store/alarms.ts';
import type { Store } from '../store/store.ts';
import type { ActiveSession } from './auth/sessions.ts';
import type { ChangedAlarm, EventFeed } from './deps.ts';

interface Client {
  res: ServerResponse;
  session: ActiveSession;
  cookie: string | undefined;
}

export interface LiveOptions {
  store: Store;
  bus: EventFeed;
  health: () => DeviceHealth[];
  log: Logger;
  /** Re-check a client's session (logout, disable, expiry end the stream). */
  stillValid: (cookie: string | undefined) => Promise<boolean>;
  /** The store's hook for committed alarm changes: pushed at once; the poll is then only a safety net. */
  alarmChanges?: (fn: (a: ChangedAlarm) => void) => () => void;
  /** What an alarm message carries (the panel adds device name, place, grid name, overdue). */
  alarmView?: (a: ChangedAlarm) => unknown;
  alarmPollMs?: number;
  healthPollMs?: number;
  maxClients?: number;
}

/**
 * The live feed behind the panel's server-sent events. Alarms are read from
 * the store by change cursor (whoever changed them: a rule, a guard, the
 * county), every 250 ms and right after an alarm-lane event is stored, so a
 * new alarm reaches every open board within a second; stored events and
 * device health changes are pushed as they happen.
 */
export class LiveHub {
  private clients = new Set<Client>();
  private cursor = 0;
  private timers: NodeJS.Timeout[] = [];
  private polling = false;
  private again = false;
  private lastHealth = new Map<string, string>();
  private offs: (() => void)[] = [];
  /** The last change of each alarm pushed, so the hook and the poll never push one twice. */
  private sent = new Map<string, number>();
  private listeners = new Set<(topic: string, data: unknown) => void>();

  constructor(private readonly o: LiveOptions) {}

  start(): void {
    this.cursor = this.o.store.writer.last('alarm_history');
    for (const h of this.o.health()) this.lastHealth.set(h.deviceId, JSON.stringify(h));
    this.offs.push(this.o.bus.on('event.stored', (e) => this.onEvent(e)));
    if (this.o.alarmChanges) this.offs.push(this.o.alarmChanges((a) => this.pushAlarm(a)));
    this.every(this.o.alarmPollMs ?? (this.o.alarmChanges ? 2000 : 250), () => void this.pollAlarms());
    this.every(this.o.healthPollMs ?? 1000, () => this.pollHealth());
    this.every(15_000, () => this.heartbeat());
    this.every(30_000, () => void this.recheckSessions());
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Tell in-process listeners too (the walk test listens for its own topics). */
  onBroadcast(fn: (topic: string, data: unknown) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Take over an HTTP response as an event stream. */
  attach(res: ServerResponse, session: ActiveSession, cookie: string | undefined): boolean {
    if (this.clients.size >= (this.o.maxClients ?? 100)) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ cursor: this.cursor })}\n\n`);
    const c: Client = { res, session, cookie };
    this.clients.add(c);
    res.on('close', () => this.clients.delete(c));
    res.on('error', () => this.clients.delete(c));
    return true;
  }

  broadcast(topic: string, data: unknown): void {
    if (this.clients.size === 0 && this.listeners.size === 0) return; // nobody watching: no frame to build (thousands of events/s under load)
    const frame = `event: ${topic}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) {
      // A client that stopped reading is dropped rather than buffered without bound.
      if (c.res.writableLength > 1024 * 1024) {
        c.res.destroy();
        this.clients.delete(c);
        continue;
      }
      c.res.write(frame);
    }
    for (const l of this.listeners) l(topic, data);
  }

  /** Read alarms changed since the cursor and push them; coalesces overlapping calls. */
  async pollAlarms(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const changed: StoredAlarm[] = await this.o.store.alarms.changedSince(this.cursor, 200);
          for (const a of changed) {
            this.cursor = Math.max(this.cursor, a.changeSeq);
            this.pushAlarm(a);
          }
          if (changed.length < 200) break;
        }
      } while (this.again);
    } catch (err) {
      this.o.log.error({ err }, 'live feed: could not read changed alarms');
    } finally {
      this.polling = false;
    }
  }

  private pushAlarm(a: ChangedAlarm): void {
    if ((this.sent.get(a.id) ?? 0) >= a.changeSeq) return;
    this.sent.delete(a.id); // re-inserted last: the map keeps insertion order, oldest first
    this.sent.set(a.id, a.changeSeq);
    if (this.sent.size > 10_000) this.sent.delete(this.sent.keys().next().value!);
    this.broadcast('alarm', this.o.alarmView ? this.o.alarmView(a) : a);
  }

  private onEvent(e: StoredEvent): void {
    if (e.deviceId !== BOX_DEVICE_ID) this.broadcast('event', { seq: e.seq, id: e.id, deviceId: e.deviceId, kind: e.kind, active: e.active, at: e.receivedAt });
    // Without the store's hook, a rule may open an alarm from this event within milliseconds: look soon, not only at the next tick.
    if (e.lane === 'alarm' && !this.o.alarmChanges) setTimeout(() => void this.pollAlarms(), 20).unref();
    if (e.kind === 'device_offline' || e.kind === 'event_channel_lost') setTimeout(() => this.pollHealth(), 20).unref();
  }

  private pollHealth(): void {
    try {
      for (const h of this.o.health()) {
        const s = JSON.stringify(h);
        if (this.lastHealth.get(h.deviceId) === s) continue;
        this.lastHealth.set(h.deviceId, s);
        this.broadcast('device', h);
      }
    } catch (err) {
      this.o.log.error({ err }, 'live feed: could not read device health');
    }
  }

  private heartbeat(): void {
    for (const c of this.clients) c.res.write(`: ${Date.now()}\n\n`);
  }

  private async recheckSessions(): Promise<void> {
    for (const c of [...this.clients]) {
      if (await this.o.stillValid(c.cookie)) continue;
      c.res.write(`event: session\ndata: {"ended":true}\n\n`);
      c.res.end();
      this.clients.delete(c);
    }
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}
