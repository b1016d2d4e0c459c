import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { parseAck, type Batch, type SendOutcome, type Transport } from './wire.ts';

export interface MqttTransportOptions {
  /** mqtt:// or mqtts:// URL of the county broker (mosquitto, EMQX, a cluster behind one address). */
  url: string;
  boxId: string;
  /** The bearer token, sent as the MQTT password (user name: the box id). */
  password: string;
  topicPrefix: string;
  ackTimeoutMs: number;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  log: Logger;
}

/**
 * The scale-out path: the same batches published QoS 1 to
 * `<prefix>/<boxId>/up` on a county broker; the county platform answers on
 * `<prefix>/<boxId>/ack` with { batchId, accepted, rejected }. The broker's
 * PUBACK only means the broker has it — entries leave the outbox on the
 * platform's ack alone, like over HTTP. No ack within ackTimeoutMs: the batch
 * is sent again (the platform drops duplicates by id).
 */
export class MqttTransport implements Transport {
  readonly name = 'mqtt';
  private client: MqttClient | null = null;
  private subscribed = false;
  private pending = new Map<string, { resolve: (o: SendOutcome) => void; started: number }>();
  private lastError: string | null = null;

  constructor(private readonly o: MqttTransportOptions) {}

  get upTopic(): string {
    return `${this.o.topicPrefix}/${this.o.boxId}/up`;
  }

  get ackTopic(): string {
    return `${this.o.topicPrefix}/${this.o.boxId}/ack`;
  }

  async start(): Promise<void> {
    // Loaded only here: most boxes push over HTTP (the idle production gateway: 99–101 MB RSS instead of 101–105).
    const { default: mqtt } = await import('mqtt');
    const client = mqtt.connect(this.o.url, {
      protocolVersion: 4,
      clientId: `shouwang-${this.o.boxId}`,
      username: this.o.boxId,
      password: this.o.password,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      keepalive: 30,
      ...(this.o.ca ? { ca: this.o.ca } : {}),
      ...(this.o.cert ? { cert: this.o.cert } : {}),
      ...(this.o.key ? { key: this.o.key } : {}),
      rejectUnauthorized: true,
    });
    this.client = client;
    client.on('connect', () => {
      client.subscribe(this.ackTopic, { qos: 1 }, (err, granted) => {
        const refused = granted?.some((g) => g.qos === 128);
        if (err || refused) {
          this.lastError = `the county broker refused the subscription to ${this.ackTopic}${err ? `: ${err.message}` : ''}`;
          this.o.log.error({ topic: this.ackTopic }, this.lastError);
          return;
        }
        this.subscribed = true;
        this.o.log.info({ url: this.o.url, up: this.upTopic, ack: this.ackTopic }, 'connected to the county broker');
      });
    });
    client.on('close', () => (this.subscribed = false));
    client.on('error', (err) => (this.lastError = err.message));
    client.on('message', (topic, payload) => {
      if (topic !== this.ackTopic) return;
      const p = parseAck(payload.toString('utf8'));
      if (!p.ok) {
        this.o.log.warn({ why: p.why }, 'a message on the ack topic is not an ack: ignored');
        return;
      }
      const batchId = p.ack.batchId;
      const waiting = batchId ? this.pending.get(batchId) : undefined;
      if (!waiting || !batchId) return; // an ack for a batch already given up on: its ids are in a later batch too
      this.pending.delete(batchId);
      waiting.resolve({ kind: 'ack', ack: p.ack, rttMs: performance.now() - waiting.started });
    });
  }

  send(batch: Batch): Promise<SendOutcome> {
    const client = this.client;
    if (!client?.connected || !this.subscribed)
      return Promise.resolve({
        kind: 'unavailable',
        reason: `not connected to the county broker ${this.o.url}${this.lastError ? ` (${this.lastError})` : ''}`,
      });
    return new Promise<SendOutcome>((resolve) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        this.pending.delete(batch.batchId);
        resolve({ kind: 'unavailable', reason: `no ack from the county platform within ${this.o.ackTimeoutMs} ms`, pushback: true });
      }, this.o.ackTimeoutMs);
      this.pending.set(batch.batchId, {
        started,
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
      });
      client.publish(this.upTopic, JSON.stringify(batch), { qos: 1 }, (err) => {
        if (!err) return;
        const w = this.pending.get(batch.batchId);
        this.pending.delete(batch.batchId);
        w?.resolve({ kind: 'unavailable', reason: `publish to the county broker failed: ${err.message}` });
      });
    });
  }

  async stop(): Promise<void> {
    for (const [, w] of this.pending) w.resolve({ kind: 'unavailable', reason: 'stopping' });
    this.pending.clear();
    await this.client?.endAsync(true).catch(() => {});
    this.client = null;
  }
}
