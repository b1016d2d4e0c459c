/** The pull API the county platform calls on the box. */
import { z } from 'zod';
import { nameSchema } from './common.ts';
import { verifierSchema } from './secret.ts';

export const CountyApiTokenSchema = z
  .strictObject({
    name: nameSchema('Who holds the token, e.g. county; recorded in the audit trail'),
    token: verifierSchema('Bearer token the caller presents.'),
  })
  .describe('One API token.');

export const CountyApiSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Serve the county pull API on the panel port (default false).'),
    tokens: z.array(CountyApiTokenSchema).default([]).describe('Tokens accepted by the pull API; at least one when enabled (default []).'),
  })
  .describe('County pull API (alarms, status write-back, inventory, health).');
export type CountyApiConfig = z.output<typeof CountyApiSchema>;
