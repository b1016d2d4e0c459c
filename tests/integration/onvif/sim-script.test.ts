import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { parseScript, runScript, startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';
import { until } from './helpers.ts';

/** The simulator's scripted timeline: events, faults and actions at their times on the simulator's clock. */
describe('camera simulator scripts', () => {
  let farm: CameraFarm | null = null;
  afterEach(async () => {
    await farm?.stop();
    farm = null;
  });

  it('raises events, sets faults and powers a camera off and on at the scripted times', async () => {
    const clock = new FakeClock();
    farm = await startCameras({ cameras: [{ id: 'cam-1', port: 0, username: 'admin', password: 'pw' }], clock });
    const cam = farm.camera('cam-1');
    const sub = cam.createSubscription(600_000);
    if (sub === 'cap') throw new Error('unexpected cap');
    sub.queue.length = 0;
    const lines: string[] = [];
    const run = runScript(
      farm,
      parseScript(
        [
          { at: '1s', camera: 'cam-1', event: { type: 'intrusion', active: true, rule: '东墙' } },
          { at: '2s', camera: 'cam-1', fault: { clockSkewSeconds: 3600, maxSubscriptions: 1, lockoutAfter: 2 } },
          { at: '3s', camera: 'cam-1', action: 'unreachable' },
          { at: '4s', camera: 'cam-1', action: 'reachable' },
          { at: '5s', camera: 'cam-1', action: 'drop-subscriptions', mode: 'silent' },
        ],
        new Set(['cam-1']),
      ),
      (l) => lines.push(l),
    );
    clock.advance(1000);
    expect(sub.queue.map((m) => [m.topic, m.data])).toEqual([['tns1:RuleEngine/FieldDetector/ObjectsInside', { IsInside: 'true' }]]);
    clock.advance(1000);
    expect(cam.faults).toMatchObject({ clockSkewMs: 3600_000, maxSubscriptions: 1 });
    expect(cam.auth.lockout.after).toBe(2);
    clock.advance(1000);
    await until('camera off', () => !farm!.reachable('cam-1'));
    await expect(fetch(`http://127.0.0.1:${cam.port}/onvif/device_service`)).rejects.toThrow();
    clock.advance(1000);
    await until('camera on', () => farm!.reachable('cam-1'));
    clock.advance(1000);
    await run.done;
    expect(sub.zombie).toBe(true);
    expect(lines).toHaveLength(5);
  });
});
