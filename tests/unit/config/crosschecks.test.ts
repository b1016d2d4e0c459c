import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.ts';
import type { ConfigProblem } from '../../../config/load.ts';
import { minimalConfig } from './helpers.ts';

type Obj = Record<string, unknown>;

function problemsOf(mutate: (raw: Obj & { devices: Obj[] }) => void): ConfigProblem[] {
  const raw = minimalConfig() as Obj & { devices: Obj[] };
  mutate(raw);
  const r = parseConfig(raw, { env: {} });
  return r.ok ? [] : r.problems;
}

const lines = (ps: ConfigProblem[]) => ps.map((p) => `${p.path}: ${p.message}`);

describe('gbId', () => {
  it('accepts an id that fits the division and the kind', () => {
    expect(problemsOf((r) => (r.devices[0]!.gbId = '32060200011320000001'))).toEqual([]);
    expect(problemsOf((r) => (r.devices[0]!.gbId = '32060200011310000001'))).toEqual([]);
    expect(problemsOf((r) => (r.devices[1]!.gbId = '32060200011340000001'))).toEqual([]);
  });

  it('refuses a wrong length or non-digits', () => {
    expect(lines(problemsOf((r) => (r.devices[0]!.gbId = '3206020001132000001')))).toEqual([
      'devices[0].gbId: expected a 20-digit GB/T 28181 id, got "3206020001132000001" (19 characters)',
    ]);
    expect(problemsOf((r) => (r.devices[0]!.gbId = '3206020001132000000A'))[0]?.path).toBe('devices[0].gbId');
  });

  it('reports a prefix that does not match the division code', () => {
    expect(lines(problemsOf((r) => (r.devices[0]!.gbId = '32068400011320000001')))).toEqual([
      'devices[0].gbId: gbId "32068400011320000001" starts with 320684, but site.divisionCode starts with 320602',
    ]);
  });

  it('reports a type code that does not fit the kind', () => {
    expect(lines(problemsOf((r) => (r.devices[0]!.gbId = '32060200011170000001')))).toEqual([
      'devices[0].gbId: gbId type code 117 (digits 11-13) does not fit a onvif_camera; expected 131 or 132',
    ]);
  });

  it('is lenient for sirens and loudspeakers, within 1xx', () => {
    const siren = (gbId: string) => (r: Obj & { devices: Obj[] }) => {
      r.devices.push({ id: 'siren-1', kind: 'siren', name: '警号', grid: '320602001001-01', place: { point: 'gate' }, password: 'siren-pass-1', gbId });
    };
    expect(problemsOf(siren('32060200011350000001'))).toEqual([]);
    expect(problemsOf(siren('32060200011990000001'))).toEqual([]);
    expect(lines(problemsOf(siren('32060200012000000001')))).toEqual([
      'devices[2].gbId: gbId type code 200 (digits 11-13) is not a front-end device type (1xx)',
    ]);
  });
});

describe('references between parts', () => {
  it('duplicate device ids are reported on the later one', () => {
    expect(lines(problemsOf((r) => (r.devices[1]!.id = 'cam-gate')))).toContainEqual('devices[1].id: duplicate device id "cam-gate" (also devices[0])');
  });

  it('cross-checks are reported even when other parts fail to parse', () => {
    const ps = problemsOf((r) => {
      r.devices[1]!.id = 'cam-gate';
      r.devices[1]!.grid = 'missing-grid';
      r.devices[0]!.port = 'eighty';
      (r.site as Obj).kind = 'villa';
    });
    expect(lines(ps)).toEqual([
      'site.kind: "villa" is not one of admin_village, natural_village, urban_estate, organization',
      'devices[0].port: expected a number, got text "eighty"',
      'devices[1].id: duplicate device id "cam-gate" (also devices[0])',
      'devices[1].grid: unknown grid "missing-grid"',
    ]);
  });

  it('mqtt_mapped devices name an existing bridge of the same profile', () => {
    const mapped =
      (bridge: string, profile = 'zigbee2mqtt') =>
      (r: Obj & { devices: Obj[] }) => {
        r.mqttBridges = [{ id: 'z2m', profile: 'zigbee2mqtt', password: 'bridge-password' }];
        r.devices.push({
          id: 'smoke-z',
          kind: 'mqtt_mapped',
          name: '烟感',
          grid: '320602001001-01',
          place: { point: 'public_area' },
          profile,
          bridge,
          sourceName: 'kitchen_smoke',
        });
      };
    expect(problemsOf(mapped('z2m'))).toEqual([]);
    expect(lines(problemsOf(mapped('z2m-2')))).toEqual(['devices[2].bridge: no bridge with id "z2m-2" in mqttBridges']);
    expect(lines(problemsOf(mapped('z2m', 'ha_alarm_panel')))).toEqual([
      'devices[2].profile: profile "ha_alarm_panel" differs from its bridge "z2m"\'s profile "zigbee2mqtt"',
    ]);
  });

  it('a bridge id may not reuse a device id', () => {
    expect(lines(problemsOf((r) => (r.mqttBridges = [{ id: 'sos-01', profile: 'zigbee2mqtt', password: 'bridge-password' }])))).toEqual([
      'mqttBridges[0].id: bridge id "sos-01" is also a device id (devices[1])',
    ]);
  });

  it('deadlines must close after they accept', () => {
    expect(lines(problemsOf((r) => (r.rules = { deadlines: { level1: { acceptMinutes: 30, closeMinutes: 10 } } })))).toEqual([
      'rules.deadlines.level1.closeMinutes: closeMinutes (10) is shorter than acceptMinutes (30)',
    ]);
  });
});
