import mqtt, { type MqttClient } from 'mqtt';
import type { Accounting } from './accounting.ts';
import { prng, type Mode, type ModeOptions } from './receiver.ts';

export interface MqttReceiverOptions extends ModeOptions {
  /** The county broker, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  username?: string;
  password?: string;
  topicPrefix?: string;
  mode?: Mode;
  maxEnvelopeBytes?: number;
  seed?: number;
  ca?: Buffer;
  accounting: Accounting;
  log?: (line: string) => void;
}

/**
 * The county platform's MQTT side: subscribes to `<prefix>/+/up` (QoS 1) and
 * answers each batch on `<prefix>/<boxId>/ack` with { batchId, accepted,
 * rejected }. Modes as over HTTP: down disconnects; flaky drops a share of
 * batches unanswered and unprocessed; lost-acks processes a share without
 * answering; partial takes only a share of each batch.
 */
export class MqttCountyReceiver {
  private client: MqttClient | null = null;
  mode: Mode;
  private readonly random: () => number;
  private opts: ModeOptions;
  readonly counts = { batches: 0, unanswered: 0 };

  constructor(private readonly o: MqttReceiverOptions) {
    this.mode = o.mode ?? 'healthy';
    this.random = prng(o.seed ?? 7);
    this.opts = { ...o };
  }

  get prefix(): string {
    return this.o.topicPrefix ?? 'county/v1';
  }

  async start(): Promise<this> {
    if (this.mode !== 'down') await this.connect();
    return this;
  }

  async setMode(mode: Mode, opts: ModeOptions = {}): Promise<void> {
    this.opts = { ...this.opts, ...opts };
    if (mode === this.mode) return;
    this.mode = mode;
    if (mode === 'down') await this.disconnect();
    else if (!this.client) await this.connect();
  }

  async stop(): Promise<void> {
    await this.disconnect();
  }

  private async connect(): Promise<void> {
    const client = mqtt.connect(this.o.url, {
      protocolVersion: 4,
      clientId: `county-platform-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
      clean: true,
      reconnectPeriod: 1000,
      ...(this.o.username ? { username: this.o.username } : {}),
      ...(this.o.password ? { password: this.o.password } : {}),
      ...(this.o.ca ? { ca: this.o.ca } : {}),
    });
    this.client = client;
    client.on('error', (err) => this.o.log?.(`county broker: ${err.message}`));
    client.on('message', (topic, payload) => void this.onBatch(client, topic, payload));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => {
        client.subscribe(`${this.prefix}/+/up`, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
      });
      client.once('error', reject);
    });
  }

  private async disconnect(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.endAsync(true).catch(() => {});
  }

  private async onBatch(client: MqttClient, topic: string, payload: Buffer): Promise<void> {
    const boxId = topic.slice(this.prefix.length + 1, -'/up'.length);
    this.counts.batches++;
    const o = this.opts;
    if (this.mode === 'flaky' && this.random() < (o.failShare ?? 0.3)) {
      this.counts.unanswered++;
      return;
    }
    if (this.mode === 'slow') await new Promise((r) => setTimeout(r, o.slowMs ?? 2000));
    let batch: { boxId?: unknown; batchId?: unknown; envelopes?: unknown };
    try {
      batch = JSON.parse(payload.toString('utf8'));
    } catch {
      this.o.log?.(`a message on ${topic} is not JSON: dropped`);
      return;
    }
    if (batch.boxId !== boxId || !Array.isArray(batch.envelopes)) {
      this.o.log?.(`a message on ${topic} is not a batch of box ${boxId}: dropped`);
      return;
    }
    const share = o.partialShare ?? 0.5;
    const result = this.o.accounting.process(boxId, batch.envelopes, {
      maxEnvelopeBytes: this.o.maxEnvelopeBytes ?? 65536,
      ...(this.mode === 'partial' ? { take: () => this.random() < share } : {}),
    });
    if (this.mode === 'lost-acks' && this.random() < (o.lostShare ?? 0.5)) {
      this.counts.unanswered++;
      return;
    }
    const ack = { batchId: typeof batch.batchId === 'string' ? batch.batchId : undefined, accepted: result.accepted, rejected: result.rejected };
    client.publish(`${this.prefix}/${boxId}/ack`, JSON.stringify(ack), { qos: 1 });
  }
}
