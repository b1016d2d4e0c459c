/**
 * One simulated MQTT device: its own mqtt.js client and credentials, speaking docs/mqtt-contract.md
 * on the wire and nothing else (no gateway code).
 */
import { connect, Store } from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { initialState, isRecord, judgeCommand, parseTime, reflectEvent, topics, type Effect, type SimState } from './behaviour.ts';
import type {
  CommandAck,
  CommandMode,
  CommandRecord,
  PublishEventOptions,
  PublishRawOptions,
  SentEventsOptions,
  SimClock,
  SimDeviceKind,
  SimDeviceSpec,
  SimEventBody,
} from './types.ts';
import { errorMessage, Timers, withTimeout } from './util.ts';

/** Settings shared by all devices of one estate. */
export interface DeviceSettings {
  brokerUrl: string;
  clock: SimClock;
  log: (line: string) => void;
  tls?: { ca?: Buffer; rejectUnauthorized?: boolean };
  heartbeatMs: number;
  keepaliveSeconds: number;
  reconnectPeriodMs: number;
  maxReconnectAttempts: number;
  runTag: string;
  maxRecordedEvents: number;
}

const MAX_COMMAND_RECORDS = 10_000;
const STOP_TIMEOUT_MS = 3000;

export class SimDevice {
  readonly id: string;
  readonly kind: SimDeviceKind;
  readonly spec: SimDeviceSpec;
  readonly topics: ReturnType<typeof topics>;

  readonly #s: DeviceSettings;
  readonly #timers = new Timers();
  readonly #commands: CommandRecord[] = [];
  readonly #acked: string[] = [];
  readonly #ackedHeartbeats: string[] = [];
  #state: SimState;
  #client: MqttClient | null = null;
  #inStore = new Store();
  #outStore = new Store();
  #ready = false;
  #silent = false;
  #down = false;
  #gaveUp = false;
  #stopped = false;
  #reconnectAttempts = 0;
  #counter = 0;
  #inflight = 0;
  #commandMode: CommandMode = 'normal';
  #lastError = '';
  #waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  #doorTimer: NodeJS.Timeout | null = null;
  #heldTimer: NodeJS.Timeout | null = null;
  #sirenTimer: NodeJS.Timeout | null = null;
  #speakerTimer: NodeJS.Timeout | null = null;
  /** Counters for summaries. */
  readonly counts = { published: 0, acked: 0, failed: 0, commands: 0, connects: 0, disconnects: 0 };

  constructor(spec: SimDeviceSpec, settings: DeviceSettings) {
    this.id = spec.id;
    this.kind = spec.kind;
    this.spec = spec;
    this.topics = topics(spec.id);
    this.#s = settings;
    this.#state = initialState(spec);
  }

  /** Connected, subscribed, `online` and the state snapshot acknowledged. */
  get connected(): boolean {
    return this.#ready && this.#client?.connected === true;
  }

  get silent(): boolean {
    return this.#silent;
  }

  /** A copy of the current state snapshot. */
  get state(): SimState {
    return structuredClone(this.#state);
  }

  /** Commands received (oldest first, last 10 000) with what the device answered. */
  get commands(): readonly CommandRecord[] {
    return this.#commands;
  }

  /** QoS 1 publishes not yet PUBACKed. */
  get inflight(): number {
    return this.#inflight;
  }

  get lastError(): string {
    return this.#lastError;
  }

  /** Opens the connection (first time). Resolves once ready, or rejects after `timeoutMs` or on a refusal. */
  start(timeoutMs: number | null): Promise<void> {
    if (!this.#client) this.#connect();
    if (this.#s.heartbeatMs > 0) {
      this.#timers.every(this.#s.heartbeatMs, () => {
        if (this.connected && !this.#silent) this.publishEvent({ type: 'heartbeat' }).catch(() => undefined);
      });
    }
    return timeoutMs === null ? Promise.resolve() : this.waitConnected(timeoutMs);
  }

  /** Resolves when the device is (again) connected and has published `online`. */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    return withTimeout(p, timeoutMs, `${this.id}: not connected after ${timeoutMs} ms${this.#lastError ? ` (${this.#lastError})` : ''}`);
  }

  #connect(): void {
    const opts: IClientOptions = {
      protocolVersion: 4,
      clientId: this.id,
      username: this.id,
      password: this.spec.password,
      clean: false,
      keepalive: this.#s.keepaliveSeconds,
      reconnectPeriod: this.#s.reconnectPeriodMs,
      connectTimeout: 10_000,
      resubscribe: false,
      queueQoSZero: false,
      incomingStore: this.#inStore,
      outgoingStore: this.#outStore,
      will: { topic: this.topics.status, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    if (this.#s.tls) {
      if (this.#s.tls.ca) opts.ca = this.#s.tls.ca;
      opts.rejectUnauthorized = this.#s.tls.rejectUnauthorized ?? true;
    }
    const client = connect(this.#s.brokerUrl, opts);
    this.#client = client;
    client.on('connect', () => this.#onConnect(client));
    client.on('message', (topic, payload) => {
      if (topic === this.topics.cmd) this.#onCommand(payload);
    });
    client.on('close', () => {
      if (this.#ready) {
        this.#ready = false;
        this.counts.disconnects++;
        if (!this.#stopped) this.#s.log(`${this.id}: disconnected${this.#down ? ' (unclean, on purpose)' : ''}`);
      }
    });
    client.on('reconnect', () => {
      if (this.#down || this.#stopped) return;
      this.#reconnectAttempts++;
      if (this.#reconnectAttempts > this.#s.maxReconnectAttempts) {
        this.#gaveUp = true;
        this.#s.log(`${this.id}: giving up after ${this.#s.maxReconnectAttempts} reconnect attempts (${this.#lastError || 'no answer'})`);
        client.end(true);
        this.#rejectWaiters(new Error(`${this.id}: gave up reconnecting (${this.#lastError || 'no answer'})`));
      }
    });
    client.on('error', (err: Error & { code?: unknown }) => {
      const msg = errorMessage(err);
      if (msg !== this.#lastError) this.#s.log(`${this.id}: ${msg}`);
      this.#lastError = msg;
      // CONNACK refusals (4 bad user name or password, 5 not authorized, ...): mqtt.js does not retry
      if (typeof err.code === 'number' && !this.#ready) {
        this.#gaveUp = true;
        this.#rejectWaiters(new Error(`${this.id}: ${msg}`));
      }
    });
  }

  #onConnect(client: MqttClient): void {
    this.#reconnectAttempts = 0;
    this.#gaveUp = false;
    this.#lastError = '';
    const opts = { qos: 1 as const };
    void (async () => {
      try {
        // subscribe first, so a command sent the moment the box sees `online` is not missed
        await client.subscribeAsync(this.topics.cmd, opts);
        await Promise.all([
          client.publishAsync(this.topics.status, 'online', { qos: 1, retain: true }),
          client.publishAsync(this.topics.state, JSON.stringify(this.#state), { qos: 1, retain: true }),
        ]);
        if (client !== this.#client || !client.connected) return;
        this.#ready = true;
        this.counts.connects++;
        this.#s.log(`${this.id}: online${this.counts.connects > 1 ? ' (reconnected)' : ''}`);
        const waiters = this.#waiters.splice(0);
        for (const w of waiters) w.resolve();
      } catch (err) {
        if (!this.#stopped) this.#s.log(`${this.id}: connect handshake failed: ${errorMessage(err)}`);
      }
    })();
  }

  #rejectWaiters(err: Error): void {
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) w.reject(err);
  }

  #nextEventId(): string {
    this.#counter++;
    const n = String(this.#counter).padStart(6, '0');
    const tail = this.#s.runTag ? `-${this.#s.runTag}-${n}` : `-${n}`;
    return `${this.id.slice(0, 64 - tail.length)}${tail}`;
  }

  /**
   * Publishes one event on `sw/v1/<id>/event` (QoS 1), adding a unique `id` and `ts` (device clock).
   * Resolves with the event id once the broker has PUBACKed it. Works while silent (silence only stops
   * heartbeats, traffic and command answers); while disconnected it is queued and sent on reconnect.
   */
  publishEvent(body: SimEventBody, opts: PublishEventOptions = {}): Promise<string> {
    if (this.#stopped || !this.#client) return Promise.reject(new Error(`${this.id}: stopped`));
    const id = opts.id ?? this.#nextEventId();
    const payload: Record<string, unknown> = { ...body, id };
    if (opts.ts !== false) payload.ts = opts.ts ?? this.#s.clock.now();
    const changed = opts.reflectState !== false && reflectEvent(this.spec, this.#state, body);
    const qos = opts.qos ?? 1;
    const heartbeat = body.type === 'heartbeat';
    this.counts.published++;
    this.#inflight++;
    const sent = this.#client.publishAsync(this.topics.event, JSON.stringify(payload), { qos });
    if (changed) this.publishState();
    return sent.then(
      () => {
        this.#inflight--;
        this.counts.acked++;
        const list = heartbeat ? this.#ackedHeartbeats : this.#acked;
        if (list.length < this.#s.maxRecordedEvents) list.push(id);
        return id;
      },
      (err: unknown) => {
        this.#inflight--;
        this.counts.failed++;
        throw new Error(`${this.id}: event ${id} not acknowledged: ${errorMessage(err)}`);
      },
    );
  }

  /** Publishes anything anywhere (fault tests). QoS 0 by default; QoS 1 resolves on PUBACK. */
  publishRaw(topic: string, payload: string | Buffer, opts: PublishRawOptions = {}): Promise<void> {
    if (this.#stopped || !this.#client) return Promise.reject(new Error(`${this.id}: stopped`));
    const qos = opts.qos ?? 0;
    const p = this.#client.publishAsync(topic, payload, { qos, retain: opts.retain ?? false }).then(() => undefined);
    return qos === 0 ? p : withTimeout(p, opts.timeoutMs ?? 10_000, `${this.id}: no PUBACK for ${topic} within ${opts.timeoutMs ?? 10_000} ms`);
  }

  /** Republishes the state snapshot (retained, QoS 1) when connected; on connect it is sent anyway. */
  publishState(): void {
    const client = this.#client;
    if (!client || !this.connected) return;
    client.publishAsync(this.topics.state, JSON.stringify(this.#state), { qos: 1, retain: true }).catch(() => undefined);
  }

  /** Event ids the broker PUBACKed, in order (heartbeats only when asked). */
  sentEvents(opts: SentEventsOptions = {}): string[] {
    return opts.heartbeats ? [...this.#acked, ...this.#ackedHeartbeats] : [...this.#acked];
  }

  /** Destroys the socket without DISCONNECT, so the broker publishes the will; stays down until `reconnect()`. */
  async disconnectUncleanly(): Promise<void> {
    const client = this.#client;
    if (!client || this.#stopped) return;
    this.#down = true;
    client.options.reconnectPeriod = 0;
    (client as unknown as { _clearReconnect?: () => void })._clearReconnect?.();
    if (!client.connected) {
      client.stream?.destroy();
      return;
    }
    this.#s.log(`${this.id}: dropping the connection uncleanly`);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.stream.destroy();
    await withTimeout(closed, 2000, `${this.id}: socket did not close`).catch(() => undefined);
  }

  /** Connects again after `disconnectUncleanly()` or after giving up; resolves when back online. */
  async reconnect(timeoutMs = 10_000): Promise<void> {
    if (this.#stopped) throw new Error(`${this.id}: stopped`);
    const client = this.#client;
    if (this.connected && !this.#down) return;
    if (!client || this.#gaveUp) {
      this.#gaveUp = false;
      this.#down = false;
      this.#reconnectAttempts = 0;
      client?.removeAllListeners();
      client?.on('error', () => undefined);
      client?.end(true);
      this.#inStore = new Store();
      this.#outStore = new Store();
      this.#connect();
    } else if (this.#down) {
      this.#down = false;
      this.#reconnectAttempts = 0;
      client.options.reconnectPeriod = this.#s.reconnectPeriodMs;
      client.reconnect({ incomingStore: this.#inStore, outgoingStore: this.#outStore });
    }
    await this.waitConnected(timeoutMs);
  }

  /** Silent: stays connected (keepalive pings go on) but sends no heartbeats or traffic and answers no commands. */
  goSilent(on = true): void {
    if (this.#silent === on) return;
    this.#silent = on;
    this.#s.log(`${this.id}: ${on ? 'going silent' : 'talking again'}`);
  }

  setCommandMode(mode: CommandMode): void {
    this.#commandMode = mode;
  }

  #onCommand(payload: Buffer): void {
    const raw = payload.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const obj = isRecord(parsed) ? parsed : {};
    const id = typeof obj.id === 'string' && obj.id !== '' ? obj.id : null;
    const action = typeof obj.action === 'string' ? obj.action : null;
    const params = isRecord(obj.params) ? obj.params : {};
    const rec: CommandRecord = { receivedAt: this.#s.clock.now(), raw, id, action, params, answer: null };
    this.#commands.push(rec);
    if (this.#commands.length > MAX_COMMAND_RECORDS) this.#commands.shift();
    this.counts.commands++;

    if (this.#silent || this.#commandMode === 'ignore') {
      this.#s.log(`${this.id}: command ${action ?? '?'} ${id ?? ''} received, not answered (${this.#silent ? 'silent' : 'ignore mode'})`);
      return;
    }
    if (id === null) {
      this.#s.log(`${this.id}: command without an id, cannot answer: ${raw.slice(0, 120)}`);
      return;
    }
    let answer: CommandAck;
    let effect: Effect | null = null;
    const expiresAt = parseTime(obj.expiresAt);
    if (expiresAt !== null && Number.isNaN(expiresAt)) answer = { id, result: 'rejected', detail: 'unreadable expiresAt' };
    else if (expiresAt !== null && rec.receivedAt > expiresAt) answer = { id, result: 'expired' };
    else {
      const verdict = judgeCommand(this.spec, action, params);
      if (!verdict.ok) answer = { id, result: 'rejected', detail: verdict.detail };
      else if (this.#commandMode === 'fail') answer = { id, result: 'failed', detail: this.kind === 'access_controller' ? 'lock jammed' : 'device fault' };
      else {
        answer = { id, result: 'ok' };
        effect = verdict.effect;
      }
    }
    rec.answer = answer;
    this.#s.log(`${this.id}: command ${action ?? '?'} ${id} → ${answer.result}${answer.detail ? ` (${answer.detail})` : ''}`);
    this.#client?.publishAsync(this.topics.ack, JSON.stringify(answer), { qos: 1 }).catch(() => undefined);
    if (effect) this.#apply(effect);
  }

  #apply(effect: Effect): void {
    switch (effect.kind) {
      case 'arm':
        if (this.#state.armed !== effect.mode) this.publishEvent({ type: 'armed', mode: effect.mode, user: 'remote' }).catch(() => undefined);
        return;
      case 'disarm':
        if (this.#state.armed !== 'disarmed') this.publishEvent({ type: 'disarmed', user: 'remote' }).catch(() => undefined);
        return;
      case 'unlock':
        this.unlockDoor(effect.seconds);
        return;
      case 'siren':
        this.#timers.cancel(this.#sirenTimer);
        this.#sirenTimer = null;
        this.#setState({ sounding: effect.on });
        if (effect.on) {
          this.#sirenTimer = this.#timers.after(effect.seconds * 1000, () => this.#setState({ sounding: false }));
        }
        return;
      case 'broadcast':
        this.#timers.cancel(this.#speakerTimer);
        this.#speakerTimer = null;
        this.#setState({ playing: effect.clip });
        if (effect.clip !== null) {
          this.#speakerTimer = this.#timers.after(effect.seconds * 1000, () => this.#setState({ playing: null }));
        }
        return;
    }
  }

  #setState(patch: SimState): void {
    const before = JSON.stringify(this.#state);
    Object.assign(this.#state, patch);
    if (JSON.stringify(this.#state) !== before) this.publishState();
  }

  /**
   * Access controllers: unlock, open the door (door opened event), close it after `seconds`
   * (door closed event). With `heldOpen`, the door is propped: held_open after heldOpenSeconds,
   * closed 20 s later. Re-unlocking an open door extends it.
   */
  unlockDoor(seconds: number, opts: { heldOpen?: boolean } = {}): void {
    if (this.kind !== 'access_controller' || this.#stopped) return;
    this.#timers.cancel(this.#doorTimer);
    this.#timers.cancel(this.#heldTimer);
    this.#doorTimer = null;
    this.#heldTimer = null;
    this.#state.locked = false;
    if (this.#state.door !== 'open') this.publishEvent({ type: 'door', state: 'opened' }).catch(() => undefined);
    else this.publishState();
    const close = () => {
      this.#doorTimer = null;
      this.#heldTimer = null;
      this.publishEvent({ type: 'door', state: 'closed' }).catch(() => undefined);
    };
    if (opts.heldOpen) {
      const held = this.spec.heldOpenSeconds ?? 60;
      this.#heldTimer = this.#timers.after(held * 1000, () => {
        this.publishEvent({ type: 'door', state: 'held_open', seconds: held }).catch(() => undefined);
        this.#doorTimer = this.#timers.after(20_000, close);
      });
    } else {
      this.#doorTimer = this.#timers.after(seconds * 1000, close);
    }
  }

  /** Clean stop: `offline` (retained), DISCONNECT, timers cleared. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timers.close();
    this.#rejectWaiters(new Error(`${this.id}: stopped`));
    const client = this.#client;
    if (!client) return;
    try {
      if (client.connected) {
        await withTimeout(client.publishAsync(this.topics.status, 'offline', { qos: 1, retain: true }), STOP_TIMEOUT_MS, 'no PUBACK for offline');
        await withTimeout(client.endAsync(false), STOP_TIMEOUT_MS, 'DISCONNECT did not finish');
      } else {
        await withTimeout(client.endAsync(true), STOP_TIMEOUT_MS, 'close did not finish');
      }
    } catch {
      client.end(true);
    }
    this.#ready = false;
  }
}
