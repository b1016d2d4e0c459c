/** SQLite store: group commit, retention and disk budget. */
import { z } from 'zod';
import { intSchema } from './common.ts';

export const StorageSchema = z
  .strictObject({
    groupCommit: z
      .strictObject({
        maxBatch: intSchema(1, 5000, 512, 'Most rows committed in one transaction'),
        maxDelayMs: intSchema(0, 100, 2, 'Longest a row waits for its transaction, in milliseconds'),
      })
      .prefault({})
      .describe('Group commit: one transaction per few ms or few hundred rows.'),
    retention: z
      .strictObject({
        eventsDays: intSchema(1, 3650, 90, 'Days events are kept'),
        alarmsDays: intSchema(30, 3650, 730, 'Days alarms (警情) and their history are kept'),
        auditDays: intSchema(30, 3650, 730, 'Days audit records are kept'),
        rejectsMax: intSchema(100, 1000000, 10000, 'Most rejected payloads kept'),
        outbox: z
          .strictObject({
            alarmsDays: intSchema(1, 365, 30, 'Days an undelivered alarm stays in the outbox'),
            recordsDays: intSchema(1, 365, 7, 'Days an undelivered access/vehicle record stays in the outbox'),
            statusDays: intSchema(1, 365, 1, 'Days an undelivered status entry stays in the outbox'),
          })
          .prefault({})
          .describe('Outbox lane retention.'),
      })
      .prefault({})
      .describe('How long things are kept.'),
    budget: z
      .strictObject({
        maxDbMb: intSchema(16, 1048576, 1024, 'Database size (MB) above which status and records are shed'),
        hardCapMb: intSchema(16, 1048576, 1536, 'Database size (MB) above which even alarms are evicted; >= maxDbMb'),
        minFreeMb: intSchema(0, 1048576, 200, 'Free disk (MB) the box keeps for the system'),
      })
      .prefault({})
      .describe('Disk budget.'),
  })
  .describe('SQLite storage.');
export type StorageConfig = z.output<typeof StorageSchema>;
