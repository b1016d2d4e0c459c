/** Upstream: what the box pushes to the county platform (县级综治中心). */
import { z } from 'zod';
import { filePathSchema, intSchema, nameSchema, quote } from './common.ts';
import { secretSchema } from './secret.ts';
import { eventKinds } from '../../gateway/core/events.ts';

/** Seconds between looks at device health, also on boxes without a county upstream (their uptime figures need the record). */
export const DEVICE_STATUS_SECONDS = 5;

export const CountyAuthSchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('bearer').describe('Authorization: Bearer <token>.'),
        token: secretSchema('Bearer token issued by the county.'),
      })
      .describe('Bearer token authentication.'),
    z
      .strictObject({
        type: z.literal('hmac').describe('Each request signed with HMAC-SHA256.'),
        keyId: nameSchema('Key id the county issued with the secret', 128),
        secret: secretSchema('HMAC secret issued by the county.'),
      })
      .describe('HMAC request signing.'),
  ])
  .describe('How the box authenticates to the county: { type: bearer, token } or { type: hmac, keyId, secret }.');
export type CountyAuthConfig = z.output<typeof CountyAuthSchema>;

export const HttpUrlSchema = z
  .string()
  .superRefine((v, ctx) => {
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      ctx.addIssue({ code: 'custom', message: `${quote(v)} is not an http:// or https:// URL` });
    }
  })
  .describe('http:// or https:// URL of the county ingest endpoint.');

/** The county endpoint: http(s):// for batch POSTs, or mqtt(s):// for the MQTT upstream (a county broker or cluster). */
export const CountyUrlSchema = z
  .string()
  .superRefine((v, ctx) => {
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    if (!u || !['http:', 'https:', 'mqtt:', 'mqtts:'].includes(u.protocol)) {
      ctx.addIssue({ code: 'custom', message: `${quote(v)} is not an http://, https://, mqtt:// or mqtts:// URL` });
    }
  })
  .describe(
    'County endpoint: http:// or https:// URL of the ingest endpoint (batch POST), or mqtt:// / mqtts:// URL of the county broker (envelopes published QoS 1, acks on a topic).',
  );

export const CountyMqttSchema = z
  .strictObject({
    topicPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, { error: (iss) => `${quote(iss.input)} is not a topic prefix: levels of A-Z a-z 0-9 _ - separated by /` })
      .default('county/v1')
      .describe('Topic prefix: batches go to <prefix>/<boxId>/up, acks come back on <prefix>/<boxId>/ack (default county/v1).'),
    ackTimeoutMs: intSchema(500, 120000, 10000, 'How long to wait for the ack of a published batch before sending it again'),
  })
  .describe('MQTT upstream settings (used when url is mqtt:// or mqtts://).');

export const CountyUpstreamSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Push to the county (default true when this section is present).'),
    url: CountyUrlSchema,
    auth: CountyAuthSchema,
    caFile: filePathSchema('CA certificate (PEM) to trust for the county server (optional).').optional(),
    clientCertFile: filePathSchema('Client certificate (PEM) for mutual TLS (optional).').optional(),
    clientKeyFile: filePathSchema('Client key (PEM) for mutual TLS (optional).').optional(),
    batchSize: intSchema(1, 5000, 200, 'Outbox entries per HTTP batch'),
    timeoutMs: intSchema(500, 120000, 10000, 'HTTP request timeout in milliseconds'),
    maxAttempts: intSchema(1, 1000, 10, 'Attempts before an entry goes to dead-letter'),
    replayRatePerSecond: intSchema(
      1,
      100000,
      200,
      'Entries per second a backlog replay starts at after an outage; it grows while the county answers quickly and halves when it pushes back',
    ),
    replayMaxRatePerSecond: intSchema(1, 100000, 2000, 'Highest replay pace in entries per second'),
    fairAfterSeconds: intSchema(
      0,
      86400,
      30,
      'Seconds the outbox may stay backlogged before each lower lane (records, status) gets a 10 % share of every batch; until then alarms go first',
    ),
    heartbeatSeconds: intSchema(5, 3600, 60, 'Seconds between box.heartbeat envelopes'),
    deviceStatusSeconds: intSchema(
      1,
      600,
      DEVICE_STATUS_SECONDS,
      'Seconds between looks at device health: a change is recorded for uptime and becomes a device.status envelope',
    ),
    mqtt: CountyMqttSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const mqtt = c.url.startsWith('mqtt:') || c.url.startsWith('mqtts:');
    if (mqtt && c.auth.type === 'hmac')
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'type'],
        message:
          'HMAC signing applies to the HTTP upstream; an mqtt:// upstream authenticates with a bearer token (sent as the MQTT password) or a client certificate',
      });
    if (c.replayMaxRatePerSecond < c.replayRatePerSecond)
      ctx.addIssue({
        code: 'custom',
        path: ['replayMaxRatePerSecond'],
        message: `replayMaxRatePerSecond (${c.replayMaxRatePerSecond}) is below replayRatePerSecond (${c.replayRatePerSecond})`,
      });
    if ((c.clientCertFile === undefined) !== (c.clientKeyFile === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [c.clientCertFile ? 'clientKeyFile' : 'clientCertFile'],
        message: 'a client certificate needs both clientCertFile and clientKeyFile',
      });
  })
  .describe('County platform push (HTTP batch or MQTT). Omit the section to run without upstream.');
export type CountyUpstreamConfig = z.output<typeof CountyUpstreamSchema>;

export const DEFAULT_FORWARD_EVENT_KINDS = [
  'access_granted',
  'access_denied',
  'door_forced',
  'door_held_open',
  'zone_alarm',
  'intrusion',
  'line_crossing',
  'tamper',
  'digital_input',
  'sos',
  'smoke',
  'water_leak',
  'gas',
  'armed',
  'disarmed',
  'trouble',
  'battery_low',
  'device_offline',
  'event_channel_lost',
  'storage_loss',
  'storage_recovered',
  'box_started',
] as const;

export const ForwardSchema = z
  .strictObject({
    eventKinds: z
      .array(
        z.string().refine((k) => (eventKinds as readonly string[]).includes(k), {
          error: (iss) => `${quote(iss.input)} is not an event kind`,
          params: { hint: `known kinds: ${eventKinds.join(', ')}` },
        }),
      )
      .default([...DEFAULT_FORWARD_EVENT_KINDS])
      .describe(
        `Event kinds forwarded upstream as \`event\` envelopes, besides alarms (default: ${DEFAULT_FORWARD_EVENT_KINDS.join(', ')}; raw motion is not forwarded).`,
      ),
  })
  .describe('Which events (not only alarms) go upstream.');

export const UpstreamSchema = z
  .strictObject({
    county: CountyUpstreamSchema.optional(),
    forward: ForwardSchema.prefault({}),
  })
  .describe('What the box sends upstream.');
export type UpstreamConfig = z.output<typeof UpstreamSchema>;
