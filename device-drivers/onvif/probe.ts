import { systemClock } from '../../gateway/core/clock.ts';
import { CameraAdapter, type CameraInfo, type CameraProfile } from './adapter.ts';
import { OnvifError } from './errors.ts';
import { propertyKey } from './notification.ts';
import { PullPointClient } from './pullpoint.ts';
import { fetchSnapshot } from './snapshot.ts';
import { SoapClient } from './soap.ts';
import { readSystemDateAndTime } from './time.ts';
import { DEFAULT_TUNING } from './tuning.ts';
import { hostPort, rewriteUrl } from './urls.ts';
import { text } from './xml.ts';

/**
 * One look at a camera for the installer (安装调试): can the box reach it, do
 * the credentials work, what is it, what does it stream, a snapshot, how far
 * off its clock is, and whether an event subscription works. It stops at the
 * first refused login, so probing never locks a camera account.
 */
export interface ProbeOptions {
  host: string;
  port?: number;
  username: string;
  password: string;
  /** Per request (default 5000 ms). */
  timeoutMs?: number;
  /** Fetch a snapshot (default true). */
  snapshot?: boolean;
  /** Try a PullPoint subscription (default true). */
  events?: boolean;
  /** A clock off by more than this is flagged (default 5000 ms). */
  clockSkewThresholdMs?: number;
}

export interface ProbeReport {
  /** Reachable, logged in, and described. */
  ok: boolean;
  reachable: boolean;
  loginOk: boolean | null;
  device: CameraInfo | null;
  profiles: CameraProfile[];
  ptz: boolean;
  snapshot: { bytes: Buffer; contentType: string } | null;
  clock: { offsetMs: number; cameraTime: string; skewed: boolean; thresholdMs: number; dateTimeType: string | null } | null;
  events: { ok: boolean; initialStates: number; detail: string | null };
  /** What went wrong, each with what to do. */
  problems: string[];
}

export async function probeCamera(o: ProbeOptions): Promise<ProbeReport> {
  const port = o.port ?? 80;
  const timeoutMs = o.timeoutMs ?? 5000;
  const threshold = o.clockSkewThresholdMs ?? DEFAULT_TUNING.clockSkewThresholdMs;
  const clock = systemClock;
  const where = `${o.host}:${port}`;
  const report: ProbeReport = {
    ok: false,
    reachable: false,
    loginOk: null,
    device: null,
    profiles: [],
    ptz: false,
    snapshot: null,
    clock: null,
    events: { ok: false, initialStates: 0, detail: 'not tried' },
    problems: [],
  };
  let offset = 0;
  const soap = new SoapClient({ username: o.username, password: o.password, clock, cameraNow: () => clock.now() + offset });
  const deviceUrl = `http://${hostPort(o.host, port)}/onvif/device_service`;

  // 1. Reachable? The camera clock, without credentials.
  try {
    const before = clock.now();
    const a = await soap.call({ url: deviceUrl, op: 'GetSystemDateAndTime', auth: false, timeoutMs, body: '<tds:GetSystemDateAndTime/>' });
    const after = clock.now();
    report.reachable = true;
    const t = readSystemDateAndTime(a.response);
    if (t) {
      offset = Math.round(t.utcMs + 500 - (before + after) / 2);
      const skewed = Math.abs(offset) > threshold;
      report.clock = { offsetMs: offset, cameraTime: new Date(t.utcMs).toISOString(), skewed, thresholdMs: threshold, dateTimeType: t.type };
      if (skewed)
        report.problems.push(
          `the camera clock is off by ${offset > 0 ? '+' : ''}${Math.round(offset / 1000)} s: set NTP on the camera (the box signs with camera time, but event times will not be trusted)`,
        );
    } else report.problems.push('the camera gives no usable date: set its clock (NTP); its event times will not be trusted');
  } catch (err) {
    const e = err as OnvifError;
    if (e instanceof OnvifError && e.answered) report.reachable = true;
    else {
      report.problems.push(`cannot reach ${where} (${e.message}): check the address and port, that the camera is on, and that ONVIF is enabled on it`);
      return report;
    }
  }

  // 2. Who is it? (the first authenticated calls; a refusal ends the probe)
  const adapter = new CameraAdapter({ host: o.host, port, username: o.username, password: o.password, timeoutMs });
  try {
    const d = await adapter.describe();
    report.loginOk = true;
    report.device = d.info;
    report.profiles = d.profiles;
    report.ptz = d.ptz;
  } catch (err) {
    const e = err as OnvifError;
    if (e.kind === 'auth') {
      report.loginOk = false;
      report.problems.push(
        `the camera refused user ${JSON.stringify(o.username)} (${e.message}): check the ONVIF user on the camera (Hikvision needs a separate ONVIF user; Dahua may allow only admin). Stopped here so the account is not locked.`,
      );
    } else report.problems.push(`could not read the camera's information and profiles: ${e.message}`);
    adapter.close();
    return report;
  }
  adapter.close();
  if (!report.profiles.length) report.problems.push('the camera has no media profile: configure one on the camera');
  report.ok = true;

  // 3. A snapshot.
  if (o.snapshot !== false) {
    const uri = report.profiles.find((p) => p.snapshotUri)?.snapshotUri;
    if (!uri) report.problems.push('the camera offers no snapshot URI: snapshots will not be available as alarm evidence');
    else {
      try {
        report.snapshot = await fetchSnapshot(uri, { username: o.username, password: o.password, clock, timeoutMs });
      } catch (err) {
        report.problems.push(`snapshot failed: ${(err as Error).message}`);
        if ((err as OnvifError).kind === 'auth') return report;
      }
    }
  }

  // 4. An event subscription, created, pulled and removed.
  if (o.events !== false) {
    const pp = new PullPointClient(soap, clock, (u) => rewriteUrl(u, o.host, port));
    try {
      const caps = await soap.call({
        url: deviceUrl,
        op: 'GetCapabilities',
        auth: true,
        timeoutMs,
        body: '<tds:GetCapabilities><tds:Category>Events</tds:Category></tds:GetCapabilities>',
      });
      const x = text(caps.response, 'Capabilities', 'Events', 'XAddr');
      if (!x) throw new OnvifError('fault', 'no events service in GetCapabilities', { url: deviceUrl, op: 'GetCapabilities' });
      const sub = await pp.create(rewriteUrl(x, o.host, port), 60_000, timeoutMs);
      try {
        await pp.sync(sub, timeoutMs).catch(() => {});
        const r = await pp.pull(sub, { timeoutMs: 1000, limit: 50, socketTimeoutMs: timeoutMs + 1000 });
        // Distinct properties (cameras send their states on create and again after the sync point).
        const states = new Set(r.notifications.filter((n) => n.operation === 'Initialized').map(propertyKey));
        report.events = { ok: true, initialStates: states.size, detail: null };
      } finally {
        await pp.unsubscribe(sub, timeoutMs).catch(() => {});
      }
    } catch (err) {
      report.events = { ok: false, initialStates: 0, detail: (err as Error).message };
      report.problems.push(`event subscription failed (${(err as Error).message}): the box would not receive this camera's alarms`);
    }
  }
  return report;
}
