import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { CountyUpstreamConfig } from '../../config/schema.ts';
import type { Clock } from '../../gateway/core/clock.ts';
import type { Component } from '../../gateway/core/component.ts';
import type { HeartbeatPort } from '../../gateway/core/county.ts';
import type { Outbox } from '../../gateway/core/outbox.ts';
import { Heartbeat } from './heartbeat.ts';
import { HttpTransport, type UpstreamAuth } from './http.ts';
import { MqttTransport } from './mqtt.ts';
import { Pusher } from './pusher.ts';
import type { Transport } from './wire.ts';

export interface CountyPushDeps {
  boxId: string;
  version: string;
  config: CountyUpstreamConfig;
  outbox: Outbox;
  heartbeat: HeartbeatPort;
  clock: Clock;
  log: Logger;
  /** Monotonic ms of the box's start, for the heartbeat's uptime. */
  startedAtMono: number;
}

export interface CountyPush {
  pusher: Pusher;
  heartbeat: Heartbeat;
  /** In start order: the pusher first, so the first heartbeat goes out at once (the box's device-status component starts after them). */
  components: Component[];
}

/** The transport the URL asks for: http(s):// batch POSTs or mqtt(s):// publishes to a county broker. */
export async function createTransport(c: CountyUpstreamConfig, boxId: string, version: string, clock: Clock, log: Logger): Promise<Transport> {
  const tls = {
    ...(c.caFile ? { ca: await readFile(c.caFile) } : {}),
    ...(c.clientCertFile ? { cert: await readFile(c.clientCertFile) } : {}),
    ...(c.clientKeyFile ? { key: await readFile(c.clientKeyFile) } : {}),
  };
  const auth: UpstreamAuth =
    c.auth.type === 'bearer' ? { type: 'bearer', token: c.auth.token.reveal() } : { type: 'hmac', keyId: c.auth.keyId, secret: c.auth.secret.reveal() };
  if (c.url.startsWith('mqtt:') || c.url.startsWith('mqtts:')) {
    if (auth.type !== 'bearer') throw new Error('upstream.county.auth: an mqtt:// upstream needs a bearer token (sent as the MQTT password)');
    return new MqttTransport({ url: c.url, boxId, password: auth.token, topicPrefix: c.mqtt.topicPrefix, ackTimeoutMs: c.mqtt.ackTimeoutMs, ...tls, log });
  }
  return new HttpTransport({ url: c.url, auth, ...tls, timeoutMs: c.timeoutMs, clock, userAgent: `shouwang/${version} (${boxId})` });
}

export async function createCountyPush(d: CountyPushDeps): Promise<CountyPush> {
  const c = d.config;
  const log = d.log;
  const transport = await createTransport(c, d.boxId, d.version, d.clock, log);
  const pusher = new Pusher({
    boxId: d.boxId,
    outbox: d.outbox,
    transport,
    clock: d.clock,
    log,
    batchSize: c.batchSize,
    fairAfterMs: c.fairAfterSeconds * 1000,
    pacing: { startRate: c.replayRatePerSecond, maxRate: c.replayMaxRatePerSecond, slowMs: Math.max(250, Math.floor(c.timeoutMs / 4)) },
  });
  const wake = () => pusher.wake();
  const heartbeat = new Heartbeat({
    port: d.heartbeat,
    clock: d.clock,
    log,
    everyMs: c.heartbeatSeconds * 1000,
    version: d.version,
    startedAtMono: d.startedAtMono,
    onEnqueued: wake,
  });
  return { pusher, heartbeat, components: [pusher, heartbeat] };
}
