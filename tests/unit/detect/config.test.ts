import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEMO_CONFIG_FILE, loadConfigFile, parseConfig } from '../../../config/load.ts';
import { DEFAULT_RULES, effectiveRules } from '../../../config/schema/rules.ts';
import { detectSite } from './harness.ts';

const demoRaw = () => parse(readFileSync(DEMO_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
const problems = (raw: unknown) => {
  const r = parseConfig(raw);
  if (r.ok) return [];
  return r.problems.map((p) => `${p.path}: ${p.message}`);
};
const withRules = (rules: Record<string, unknown>) => ({ ...demoRaw(), rules });

describe('rules in the site file', () => {
  it('a site with no rules section runs the built-in rules and the night schedule', () => {
    const c = detectSite();
    expect(c.rules.schedules).toEqual([{ id: 'night', name: '夜间布防', from: '22:00', to: '06:00' }]);
    expect(effectiveRules(c.rules).map((r) => r.rule.id)).toEqual(DEFAULT_RULES.map((r) => r.id));
    expect(c.rules.stuckMinutes).toBe(10);
    expect(c.rules.escalation).toEqual({ raiseLevel: true, flagCounty: 'any' });
  });

  it('the demo estate parses with its own rules: the built-ins minus what it replaces, plus its own', async () => {
    const r = await loadConfigFile(DEMO_CONFIG_FILE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const rules = effectiveRules(r.config.rules);
    const ids = rules.map((x) => x.rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(rules.filter((x) => x.source !== 'builtin').length).toBeGreaterThan(0);
    const perimeter = rules.find((x) => x.rule.id === 'perimeter-zone')!;
    expect(perimeter.source).not.toBe('builtin');
    expect(perimeter.rule.linkage?.siren).toMatchObject({ device: 'siren-square' });
  });

  it('switching built-ins off, all or by id; a site rule with a built-in id replaces it', () => {
    const off = detectSite({ defaults: false });
    expect(effectiveRules(off.rules)).toEqual([]);
    const some = detectSite({
      disabled: ['perimeter-motion-night', 'door-held-open'],
      list: [
        {
          type: 'event',
          id: 'sos',
          name: '一键报警（本小区）',
          level: 1,
          category: 'help',
          when: { kinds: ['sos'] },
          linkage: { siren: { device: 'siren-1', seconds: 30 } },
        },
      ],
    });
    const eff = effectiveRules(some.rules);
    expect(eff.map((r) => r.rule.id)).not.toContain('perimeter-motion-night');
    expect(eff.filter((r) => r.rule.id === 'sos')).toEqual([{ rule: expect.objectContaining({ name: '一键报警（本小区）' }), source: 0 }]);
  });

  it('refuses a broken rule with the path of every problem', () => {
    const out = problems(
      withRules({
        schedules: [{ id: 'night', name: '夜间', from: '22:00', to: '6:00' }],
        disabled: ['smok'],
        list: [
          {
            type: 'event',
            id: 'x-1',
            name: '测试',
            level: 4,
            category: 'public_order',
            when: { kinds: ['door_forcd'], devices: ['door-b9'], grids: ['nope'] },
            armedBy: [{ schedule: 'weekend' }, { panel: 'door-b1' }, { panel: 'panel-north', schedule: 'night' }],
            linkage: {
              siren: { device: 'siren-square', seconds: 500 },
              broadcast: { device: 'speaker-square', clip: 'evacuat' },
              ptz: { camera: 'cam-gate-north-in', preset: '1' },
              cameras: ['door-b1'],
            },
          },
          { type: 'pairr', id: 'x-2' },
          { type: 'group', id: 'x-1', name: '组', level: 1, category: 'fire', when: { kinds: ['smoke'] }, groupBy: 'floor', threshold: 2 },
          {
            type: 'event',
            id: 'x-3',
            name: '阈值',
            level: 3,
            category: 'hazard',
            when: { kinds: ['motion'] },
            threshold: { count: 3, withinSeconds: 60 },
            holdSeconds: 30,
          },
        ],
      }),
    );
    expect(out).toEqual(
      expect.arrayContaining([
        'rules.schedules[0].to: "6:00" is not a time of day: write "HH:MM" in 24-hour form, e.g. "22:00"',
        'rules.disabled[0]: no built-in rule "smok" (did you mean "smoke"?)',
        'rules.list[0].level: must be at most 3, got 4',
        expect.stringMatching(/^rules\.list\[0\]\.when\.kinds\[0\]: "door_forcd" is not one of .* \(did you mean "door_forced"\?\)$/),
        'rules.list[0].when.devices[0]: no device with id "door-b9" (did you mean "door-b1"?)',
        'rules.list[0].when.grids[0]: unknown grid "nope"',
        'rules.list[0].armedBy[0].schedule: no schedule with id "weekend"',
        'rules.list[0].armedBy[1].panel: "door-b1" is an access_controller, not an alarm_panel (or a mapped panel)',
        'rules.list[0].armedBy[2]: give exactly one of `panel` or `schedule`',
        'rules.list[0].linkage.siren.seconds: 500 s is longer than siren "siren-square" allows (maxDurationSeconds 120)',
        'rules.list[0].linkage.broadcast.clip: loudspeaker "speaker-square" has no clip "evacuat" (did you mean "evacuate"?)',
        'rules.list[0].linkage.ptz.camera: camera "cam-gate-north-in" is not marked ptz: true',
        'rules.list[0].linkage.cameras[0]: "door-b1" is an access_controller, not an onvif_camera',
        'rules.list[1].type: unknown type "pairr" (did you mean "pair"?)',
        'rules.list[2].id: duplicate rule id "x-1" (also rules.list[0])',
        'rules.list[2].groupBy: "floor" is not one of building, building_or_grid, unit, grid, site',
        'rules.list[2].threshold: unknown key',
        'rules.list[3].holdSeconds: a rule takes a threshold or a holdSeconds, not both',
      ]),
    );
  });

  it('a built-in rule whose schedule was removed is named, with the way out', () => {
    const r = parseConfig(withRules({ schedules: [{ id: 'evening', name: '傍晚', from: '18:00', to: '22:00' }] }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const p = r.problems.find((x) => x.message.startsWith('built-in rule "perimeter-crossing-night"'))!;
    expect(p).toMatchObject({ path: 'rules.schedules', message: 'built-in rule "perimeter-crossing-night": no schedule with id "night"' });
  });

  it('"self" as the arming panel only on zone alarms', () => {
    expect(
      problems(
        withRules({
          list: [
            {
              type: 'event',
              id: 'door-self',
              name: '自身布防',
              level: 2,
              category: 'public_order',
              when: { kinds: ['door_forced'] },
              armedBy: [{ panel: 'self' }],
            },
          ],
        }),
      ),
    ).toEqual([expect.stringMatching(/^rules\.list\[0\]\.armedBy\[0\]\.panel: panel "self" means the panel the event comes from/)]);
  });
});
