/** The pull API the county platform calls on the box. */
import { z } from 'zod';
import { nameSchema } from './common.ts';
import { verifierSchema } from './secret.ts';

export const COUNTY_API_DEFAULTS = { requestsPerMinute: 600, maxWaitSeconds: 60 } as const;

export const COUNTY_API_SCOPES = ['read', 'write_back'] as const;
export type CountyApiScope = (typeof COUNTY_API_SCOPES)[number];

export const CountyApiTokenSchema = z
  .strictObject({
    name: nameSchema('Who holds the token, e.g. county; recorded in the audit trail'),
    token: verifierSchema('Bearer token the caller presents.'),
    scopes: z
      .array(z.enum(COUNTY_API_SCOPES))
      .min(1)
      .default(['read'])
      .describe(
        'What the token may do: read (alarms, events, devices, coverage, stats, evidence) and/or write_back (alarm status write-back) (default [read]).',
      ),
  })
  .describe('One API token.');

export const CountyApiSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Serve the county pull API on the panel port (default false).'),
    tokens: z.array(CountyApiTokenSchema).default([]).describe('Tokens accepted by the pull API; at least one when enabled (default []).'),
    // Optional (defaults applied by the pull API) so a minimal file's parsed form stays as it was.
    requestsPerMinute: z
      .number()
      .int()
      .min(10)
      .max(100000)
      .optional()
      .describe(`Requests per minute one token (and one address) may make before it gets 429 (10..100000, default ${COUNTY_API_DEFAULTS.requestsPerMinute}).`),
    maxWaitSeconds: z
      .number()
      .int()
      .min(0)
      .max(120)
      .optional()
      .describe(`Longest long-poll wait a caller may ask for, in seconds (0..120, default ${COUNTY_API_DEFAULTS.maxWaitSeconds}).`),
  })
  .describe('County pull API (alarms, status write-back, inventory, health).');
export type CountyApiConfig = z.output<typeof CountyApiSchema>;
