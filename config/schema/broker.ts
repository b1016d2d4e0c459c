/** The embedded MQTT broker devices connect to. */
import { z } from 'zod';
import { filePathSchema, intSchema, listenHostSchema, portSchema } from './common.ts';

export const BrokerSchema = z
  .strictObject({
    host: listenHostSchema('Address the broker listens on (default 0.0.0.0; loopback only in demo mode).').default('0.0.0.0'),
    port: portSchema(1883, 'Plain MQTT port'),
    tls: z
      .strictObject({
        port: portSchema(8883, 'MQTT over TLS port'),
        certFile: filePathSchema('Certificate chain (PEM).'),
        keyFile: filePathSchema('Private key (PEM).'),
      })
      .optional()
      .describe('Also listen with TLS (optional).'),
    maxConnections: intSchema(1, 100000, 1000, 'Most simultaneous client connections'),
    connectsPerMinutePerAddress: intSchema(1, 100000, 30, 'CONNECT attempts allowed per minute from one address'),
    maxPayloadBytes: intSchema(256, 16777216, 65536, 'Largest accepted publish payload in bytes'),
    keepaliveMaxSeconds: intSchema(10, 65535, 300, 'Largest keepalive a client may ask for, in seconds'),
  })
  .describe('Embedded MQTT 3.1.1 broker.');
export type BrokerConfig = z.output<typeof BrokerSchema>;
