import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseArgs, parseTraffic, UsageError } from '../../../simulators/mqtt-devices/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

describe('sim command line', () => {
  it('parses traffic, faults and durations', () => {
    expect(parseTraffic('realistic')).toBe('realistic');
    expect(parseTraffic('250/s')).toEqual({ eventsPerSecond: 250 });
    expect(() => parseTraffic('lots')).toThrow(UsageError);
    const a = parseArgs(['--config', 'x.yaml', '--fault', 'flood,silence', '--duration', '60s', '--traffic', 'none']);
    expect(a).toMatchObject({ config: 'x.yaml', faults: ['flood', 'silence'], durationMs: 60_000, traffic: 'none' });
    expect(() => parseArgs(['--fault', 'meteor'])).toThrow(/bad-payloads/);
    expect(() => parseArgs(['--duration'])).toThrow(/needs a value/);
  });

  it('an unknown simulator lists the available ones and exits 2', async () => {
    const err = await run(path.join(ROOT, 'node_modules/.bin/tsx'), ['simulators/run.ts', 'no-such-sim'], { cwd: ROOT }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/unknown simulator "no-such-sim"[\s\S]*mqtt-devices/);
  });
});
