/** Alarm handling deadlines (三级预警) and detection timings. */
import { z } from 'zod';
import { intSchema } from './common.ts';

function level(n: 1 | 2 | 3, accept: number, close: number) {
  return z
    .strictObject({
      acceptMinutes: intSchema(1, 10080, accept, `Minutes to accept (受理) a level-${n} alarm before it is overdue`),
      closeMinutes: intSchema(1, 525600, close, `Minutes to close (办结) a level-${n} alarm before it is overdue`),
    })
    .prefault({})
    .describe(`Deadlines for level ${n} (${n === 1 ? 'highest' : n === 2 ? 'middle' : 'lowest'}).`);
}

export const RulesSchema = z
  .strictObject({
    deadlines: z
      .strictObject({
        level1: level(1, 5, 60),
        level2: level(2, 15, 240),
        level3: level(3, 60, 1440),
      })
      .prefault({})
      .describe('Handling deadlines per alarm level (限时办结).'),
    offlineDebounceSeconds: intSchema(0, 3600, 60, 'Seconds a device must stay unreachable before device_offline'),
  })
  .describe('Detection rules.');
export type RulesConfig = z.output<typeof RulesSchema>;
