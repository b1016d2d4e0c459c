import { describe, expect, it } from 'vitest';
import { parseArgs, parseFault, parseTraffic, UsageError } from '../../../simulators/onvif-camera/cli.ts';
import { parseScript } from '../../../simulators/onvif-camera/script.ts';

describe('npm run sim -- cameras: options', () => {
  it('reads traffic, faults per camera, flavours and discovery', () => {
    const a = parseArgs([
      '--traffic',
      'motion:10s',
      '--fault',
      'clock-skew=-3600@cam-1',
      '--fault',
      'sub-cap=2',
      '--flavour',
      'mixed',
      '--discovery-port',
      'off',
      '--any-port',
    ]);
    expect(a).toMatchObject({ traffic: { periodMs: 10_000, activeMs: 1000 }, flavour: 'mixed', discoveryPort: null, anyPort: true });
    expect(a.faults).toEqual([
      { name: 'clock-skew', value: -3600, camera: 'cam-1' },
      { name: 'sub-cap', value: 2, camera: null },
    ]);
    expect(parseFault('events-down@cam-2')).toEqual({ name: 'events-down', value: 1, camera: 'cam-2' });
    expect(parseFault('drop-subscriptions=5m')).toEqual({ name: 'drop-subscriptions', value: 300_000, camera: null });
  });

  it('refuses what it cannot do, saying what it expected', () => {
    expect(() => parseTraffic('motion:100ms')).toThrow(/at least 1000 ms/);
    expect(() => parseTraffic('lots')).toThrow(UsageError);
    expect(() => parseFault('sub-cap=0')).toThrow(/not a valid value/);
    expect(() => parseFault('lockout')).toThrow(/needs a value/);
    expect(() => parseArgs(['--flavour', 'axis'])).toThrow(/standard, hikvision, dahua or mixed/);
    expect(() => parseArgs(['--discovery-multicast', 'eth0'])).toThrow(/IPv4 interface address/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option/);
  });

  it('reads a scripted timeline and names the bad step', () => {
    const ids = new Set(['cam-1']);
    const steps = parseScript(
      [
        { at: '2s', camera: 'cam-1', event: { type: 'line', rule: '北墙' } },
        { at: 1, camera: 'cam-1', fault: { clockSkewSeconds: 3600 } },
        { at: '500ms', camera: 'cam-1', action: 'drop-subscriptions', mode: 'fault' },
      ],
      ids,
    );
    expect(steps.map((s) => s.atMs)).toEqual([500, 1000, 2000]);
    expect(() => parseScript([{ at: '1s', camera: 'cam-9', event: { type: 'motion' } }], ids)).toThrow(/step 1: no simulated camera "cam-9"/);
    expect(() => parseScript([{ at: 'soon', camera: 'cam-1', event: { type: 'motion' } }], ids)).toThrow(/step 1: "at"/);
    expect(() => parseScript([{ at: '1s', camera: 'cam-1', event: { type: 'smoke' } }], ids)).toThrow(/event.type/);
  });
});
