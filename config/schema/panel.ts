/** The local web panel (物业/保安). */
import { z } from 'zod';
import { filePathSchema, intSchema, listenHostSchema, portSchema } from './common.ts';

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
    sessionIdleMinutes: intSchema(5, 1440, 720, 'Minutes without a request after which a panel session ends'),
    sessionMaxHours: intSchema(1, 720, 24, 'Hours after login at which a panel session ends regardless'),
    loginAttemptsPerMinute: intSchema(3, 100, 10, 'Login attempts allowed per client address per minute'),
    lockoutAfterFailures: intSchema(3, 20, 5, 'Failed logins in a row that lock an account'),
    lockoutMinutes: intSchema(1, 1440, 15, 'Minutes an account stays locked after too many failed logins'),
    setupLinkHours: intSchema(1, 168, 24, 'Hours the one-time setup link for the first account stays valid'),
  })
  .describe('Local web panel.');
export type PanelConfig = z.output<typeof PanelSchema>;
