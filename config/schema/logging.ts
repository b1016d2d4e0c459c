/** Logging (pino). */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export const LoggingSchema = z
  .strictObject({
    level: z
      .enum(LOG_LEVELS)
      .default('info')
      .describe(`Log level: ${LOG_LEVELS.join(' | ')} (default info).`),
    pretty: z.boolean().default(false).describe('Human-readable logs instead of JSON lines (default false).'),
  })
  .describe('Logging.');
export type LoggingConfig = z.output<typeof LoggingSchema>;
