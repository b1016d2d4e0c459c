/** The local web panel (物业/保安). */
import { z } from 'zod';
import { filePathSchema, listenHostSchema, portSchema } from './common.ts';

export const TlsFilesSchema = z
  .strictObject({
    certFile: filePathSchema('Certificate chain (PEM).'),
    keyFile: filePathSchema('Private key (PEM).'),
  })
  .describe('TLS certificate and key.');

export const PanelSchema = z
  .strictObject({
    host: listenHostSchema('Address the panel listens on (default 0.0.0.0; loopback only in demo mode).').default('0.0.0.0'),
    port: portSchema(8080, 'Panel HTTP(S) port'),
    tls: TlsFilesSchema.optional().describe('Serve HTTPS with these files (optional).'),
    language: z.enum(['zh-CN', 'en']).default('zh-CN').describe('Default panel language: zh-CN or en (default zh-CN).'),
  })
  .describe('Local web panel.');
export type PanelConfig = z.output<typeof PanelSchema>;
