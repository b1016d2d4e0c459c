import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEMO_CONFIG_FILE } from '../../../config/load.ts';
import { gw } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/store.ts';

let t: ReturnType<typeof tempDir> | null = null;
afterEach(() => t?.cleanup());

describe('gw check-config on rules', () => {
  it('refuses a broken rule with exit 1, naming its path and line, and leaves the rest of the file alone', async () => {
    t = tempDir();
    const raw = parse(readFileSync(DEMO_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
    raw.rules = {
      list: [
        {
          type: 'event',
          id: 'garage-night',
          name: '车库夜间入侵',
          level: 2,
          category: 'public_order',
          when: { kinds: ['motion'], devices: ['cam-garage-entrnce'] },
          armedBy: [{ schedule: 'nigth' }],
          linkage: { siren: { device: 'speaker-square', seconds: 30 } },
        },
      ],
    };
    const file = join(t.dir, 'site.yaml');
    writeFileSync(file, stringify(raw));
    const r = await gw(['check-config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /rules\.list\[0\]\.when\.devices\[0\]: no device with id "cam-garage-entrnce" \(did you mean "cam-garage-entrance"\?\) \(line \d+\)/,
    );
    expect(r.stderr).toMatch(/rules\.list\[0\]\.armedBy\[0\]\.schedule: no schedule with id "nigth" \(did you mean "night"\?\)/);
    expect(r.stderr).toMatch(/rules\.list\[0\]\.linkage\.siren\.device: "speaker-square" is a loudspeaker, not a siren/);
    expect(r.stderr).toMatch(/: 3 problems/);
  });
});
