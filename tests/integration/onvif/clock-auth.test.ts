import { afterEach, describe, expect, it } from 'vitest';
import { parked, rig, settle, until, waiting, type Rig } from './helpers.ts';

const HOUR = 3600_000;

describe('camera clocks and logins', { timeout: 30_000 }, () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.stop();
    r = null;
  });

  for (const skew of [HOUR, -HOUR]) {
    it(`signs with camera time when the camera clock is off by ${skew > 0 ? '+' : '-'}1 hour, keeps both times, and flags the skew`, async () => {
      r = await rig([{ id: 'cam-skew' }], { start: false });
      const cam = r.farm.camera('cam-skew');
      cam.faults.clockSkewMs = skew;
      await r.driver.start();
      await parked(r.farm, 'cam-skew');
      expect(cam.auth.stats.failures).toBe(0); // the first authenticated request was already signed with camera time
      await until('clock_skew reported', () => r!.sink.of('clock_skew').length === 1);
      const flag = r.sink.of('clock_skew')[0]!;
      expect(flag.active).toBe(true);
      expect(Math.abs(flag.attrs.offsetMs - skew)).toBeLessThan(1000);

      cam.emit({ type: 'intrusion', active: true, rule: '东侧围墙' });
      await until('intrusion', () => r!.sink.of('intrusion').some((e) => e.active));
      const e = r.sink.of('intrusion').find((x) => x.active)!;
      expect(e.receivedAt).toBe(r.clock.now());
      expect(e.deviceTime).toBe(r.clock.now() + skew); // camera time kept as the camera said it
      expect(Math.abs(e.clockOffsetMs! - skew)).toBeLessThan(1000);
      expect(e.clockTrusted).toBe(false); // so the box believes its own receive time
      expect(r.driver.health()[0]!.detail).toMatch(new RegExp(`camera clock off by ${skew > 0 ? '\\+' : '-'}3600 s`));
    });
  }

  it('works with a camera that gives no date: its event times are kept but not trusted', async () => {
    r = await rig([{ id: 'cam-nodate' }], { start: false });
    const cam = r.farm.camera('cam-nodate');
    cam.faults.noDate = true;
    cam.faults.clockSkewMs = 90_000; // and its clock is off, which the box cannot know
    await r.driver.start();
    await parked(r.farm, 'cam-nodate');
    cam.emit({ type: 'motion', active: true });
    await until('motion', () => r!.sink.of('motion').some((e) => e.active));
    const e = r.sink.of('motion').find((x) => x.active)!;
    expect(e).toMatchObject({ clockOffsetMs: null, clockTrusted: false, deviceTime: r.clock.now() + 90_000, receivedAt: r.clock.now() });
    expect(r.sink.of('clock_skew')).toHaveLength(0);
    // The clock is not asked again before every pull.
    const reads = cam.stats.byOperation.GetSystemDateAndTime!;
    r.clock.advance(60_000);
    await parked(r.farm, 'cam-nodate');
    expect(cam.stats.byOperation.GetSystemDateAndTime).toBe(reads);
  });

  it('recovers with one refused login when the camera clock jumps (reboot), and reports the skew', async () => {
    r = await rig([{ id: 'cam-jump' }]);
    const cam = r.farm.camera('cam-jump');
    await parked(r.farm, 'cam-jump');
    cam.faults.clockSkewMs = HOUR; // e.g. a camera that lost NTP after a reboot
    r.clock.advance(60_000); // the parked pull ends; the next one is signed with the old offset
    await waiting(r, 'cam-jump', 'backoff');
    expect(cam.auth.stats.failures).toBe(1);
    r.clock.advance(1000);
    await parked(r.farm, 'cam-jump');
    expect(cam.auth.stats.failures).toBe(1);
    expect(cam.auth.stats.consecutiveFailures).toBe(0);
    expect(r.driver.session('cam-jump')!.clockOffsetMs).toBeGreaterThan(HOUR - 1000);
    expect(r.sink.of('clock_skew').filter((e) => e.active)).toHaveLength(1);
    expect(r.sink.of('auth_failed')).toHaveLength(0);
    expect(cam.stats.creates).toBe(1); // the subscription itself survived
  });

  it('stops after 3 refused logins and reports auth_failed instead of locking the camera account (locks after 5)', async () => {
    r = await rig([{ id: 'cam-lock' }], { driverPassword: 'wrong-password', start: false });
    const cam = r.farm.camera('cam-lock');
    cam.auth.lockout = { after: 5, forMs: 30 * 60_000 };
    await r.driver.start();
    for (let i = 1; i < 3; i++) {
      await waiting(r, 'cam-lock', 'backoff');
      r.clock.advance(10_000);
    }
    await until('auth_failed', () => r!.sink.of('auth_failed').length === 1);
    expect(r.sink.of('auth_failed')[0]).toMatchObject({ active: true, attrs: { attempts: 3 } });
    await waiting(r, 'cam-lock', 'auth-pause');
    // Twenty quiet minutes: no further login attempt.
    for (let m = 0; m < 20; m++) {
      r.clock.advance(60_000);
      await settle(2);
    }
    expect(cam.auth.stats.failures).toBe(3);
    expect(cam.auth.stats.lockouts).toBe(0);
    expect(cam.auth.lockedOut).toBe(false);
    expect(r.driver.health()[0]).toMatchObject({ reachable: true, eventChannel: 'lost', detail: expect.stringContaining('stopped trying') });
    // A command does not try either.
    const out = await r.driver.execute({
      id: 'c1',
      deviceId: 'cam-lock',
      action: 'snapshot',
      params: {},
      requestedBy: 'guard',
      reason: 'test',
      alarmId: null,
      createdAt: r.clock.now(),
      expiresAt: r.clock.now() + 60_000,
      status: 'pending',
      outcome: null,
      completedAt: null,
    });
    expect(out).toMatchObject({ status: 'failed', detail: expect.stringContaining('auth_failed') });
    expect(cam.auth.stats.failures).toBe(3);

    // The installer fixes the camera's password to the one the box has; the next attempt (after 30 min) succeeds.
    cam.auth.password = 'wrong-password';
    r.clock.advance(11 * 60_000);
    await parked(r.farm, 'cam-lock');
    await until('auth_failed cleared', () => r!.sink.of('auth_failed').length === 2);
    expect(r.sink.of('auth_failed')[1]!.active).toBe(false);
    expect(cam.auth.stats.failures).toBe(3);
  });

  it('answers HTTP Digest when the camera demands it (UsernameToken ignored), Hikvision-style 401 page included', async () => {
    r = await rig([{ id: 'cam-digest', auth: 'digest-only', flavour: 'hikvision' }]);
    const cam = r.farm.camera('cam-digest');
    await parked(r.farm, 'cam-digest');
    expect(cam.auth.stats.failures).toBe(0);
    expect(cam.auth.stats.digestChallenges).toBeGreaterThanOrEqual(1);
    cam.emit({ type: 'motion', active: true });
    await until('motion via digest', () => r!.sink.of('motion').some((e) => e.active && !e.initial));
    // The challenge is reused preemptively: no 401 round trip per request.
    const challenges = cam.auth.stats.digestChallenges;
    r.clock.advance(60_000);
    await parked(r.farm, 'cam-digest');
    expect(cam.auth.stats.digestChallenges).toBe(challenges);
  });

  it('refuses a wrong password over HTTP Digest without counting a stale nonce as a failure', async () => {
    r = await rig([{ id: 'cam-digest-bad', auth: 'digest-only' }], { driverPassword: 'nope' });
    const cam = r.farm.camera('cam-digest-bad');
    for (let i = 1; i < 3; i++) {
      await waiting(r, 'cam-digest-bad', 'backoff');
      r.clock.advance(10_000);
    }
    await until('auth_failed', () => r!.sink.of('auth_failed').length === 1);
    expect(cam.auth.stats.failures).toBe(3);
  });
});
