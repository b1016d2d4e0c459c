import nodeOnvif, { type NodeOnvifProfile } from 'node-onvif';
import { systemClock, type Clock } from '../../gateway/core/clock.ts';
import { kindOf, OnvifError, type OnvifErrorKind } from './errors.ts';
import { hostPort, rewriteUrl } from './urls.ts';
import { SoapClient } from './soap.ts';

/**
 * A typed adapter over node-onvif for device information, media profiles,
 * stream and snapshot URIs and PTZ presets.
 *
 * node-onvif's own HTTP transport is replaced (its `_request`), because it
 * cannot answer an HTTP Digest challenge on SOAP calls (newer Hikvision
 * firmware demands it), has a fixed 3-second timeout, and reports every
 * failure as untyped text. The replacement is our SoapClient exchange
 * (timeouts, Digest, error kinds); node-onvif keeps building the requests and
 * parsing the answers. See docs/decisions.md §3.
 */
export interface CameraInfo {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface CameraProfile {
  token: string;
  name: string;
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  streamUri: string | null;
  snapshotUri: string | null;
}

export interface CameraDescription {
  info: CameraInfo;
  profiles: CameraProfile[];
  ptz: boolean;
}

export interface AdapterOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  clock?: Clock;
  timeoutMs?: number;
}

interface TransportContext {
  soap: SoapClient;
  timeoutMs: number;
  /** Adapters using it (the driver's and an installer's probe may share a camera). */
  refs: number;
}

/** Per camera (host:port + user): the SOAP client the patched transport uses. */
const contexts = new Map<string, TransportContext>();
const ctxKey = (host: string, port: string | number, user: string) => `${host}:${port}|${user}`;

let patched = false;
function patchTransport(): void {
  if (patched) return;
  patched = true;
  const soapModule = nodeOnvif._OnvifSoap;
  soapModule._request = async (oxaddr, soap) => {
    const host = oxaddr.hostname ?? '';
    const port = oxaddr.port ?? '80';
    const auth = oxaddr.auth ?? '';
    const sep = auth.indexOf(':');
    const user = sep >= 0 ? auth.slice(0, sep) : auth;
    const ctx = contexts.get(ctxKey(host, port, user)) ?? {
      soap: new SoapClient({ username: user, password: sep >= 0 ? auth.slice(sep + 1) : '', clock: systemClock, cameraNow: () => Date.now() }),
      timeoutMs: 10_000,
      refs: 0,
    };
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${oxaddr.pathname ?? '/'}`;
    const op = /<s:Body><[\w-]+:(\w+)/.exec(soap)?.[1] ?? 'SOAP';
    const res = await ctx.soap.exchange(url, () => soap, { op, timeoutMs: ctx.timeoutMs });
    if (res.status === 200) return res.body.toString('utf8');
    ctx.soap.interpret(url, op, res); // throws the typed error (node-onvif re-wraps it as text; kindOf() reads it back)
    throw new OnvifError('http', `${op}: HTTP ${res.status}`, { url, op, status: res.status });
  };
}

export class CameraAdapter {
  private device: InstanceType<typeof nodeOnvif.OnvifDevice>;
  private described: CameraDescription | null = null;
  private readonly key: string;

  constructor(private readonly o: AdapterOptions) {
    patchTransport();
    const clock = o.clock ?? systemClock;
    this.key = ctxKey(o.host, o.port, o.username);
    const existing = contexts.get(this.key);
    if (existing) existing.refs++;
    else {
      contexts.set(this.key, {
        soap: new SoapClient({ username: o.username, password: o.password, clock, cameraNow: () => clock.now() + (this.device?.time_diff ?? 0) }),
        timeoutMs: o.timeoutMs ?? 10_000,
        refs: 1,
      });
    }
    this.device = new nodeOnvif.OnvifDevice({ xaddr: `http://${hostPort(o.host, o.port)}/onvif/device_service`, user: o.username, pass: o.password });
  }

  /** Device information and profiles with their URIs (node-onvif init), cached after the first success. */
  async describe(refresh = false): Promise<CameraDescription> {
    if (this.described && !refresh) return this.described;
    try {
      await this.device.init();
    } catch (err) {
      throw retyped(err, 'reading the camera (GetCapabilities, GetDeviceInformation, GetProfiles)');
    }
    const i = this.device.getInformation() ?? {};
    const s = (k: string) => String(i[k] ?? '');
    this.described = {
      info: {
        manufacturer: s('Manufacturer'),
        model: s('Model'),
        firmwareVersion: s('FirmwareVersion'),
        serialNumber: s('SerialNumber'),
        hardwareId: s('HardwareId'),
      },
      profiles: this.device.getProfileList().map((p) => this.profile(p)),
      ptz: this.device.services.ptz !== null,
    };
    return this.described;
  }

  private profile(p: NodeOnvifProfile): CameraProfile {
    const enc = p.video.encoder;
    const num = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    return {
      token: p.token,
      name: p.name,
      encoding: enc?.encoding ?? null,
      width: num(enc?.resolution.width),
      height: num(enc?.resolution.height),
      fps: num(enc?.framerate),
      streamUri: p.stream.rtsp ? rewriteUrl(p.stream.rtsp, this.o.host, this.o.port) : null,
      snapshotUri: p.snapshot ? rewriteUrl(p.snapshot, this.o.host, this.o.port) : null,
    };
  }

  async gotoPreset(presetToken: string, profileToken?: string): Promise<void> {
    const d = await this.describe();
    const ptz = this.device.services.ptz;
    if (!ptz) throw new OnvifError('fault', 'the camera has no PTZ service', { url: '', op: 'GotoPreset' });
    const profile = profileToken ?? d.profiles[0]?.token;
    if (!profile) throw new OnvifError('fault', 'the camera has no media profile to move', { url: '', op: 'GotoPreset' });
    try {
      await ptz.gotoPreset({ ProfileToken: profile, PresetToken: presetToken });
    } catch (err) {
      throw retyped(err, `GotoPreset ${presetToken}`);
    }
  }

  async presets(profileToken?: string): Promise<{ token: string; name: string }[]> {
    const d = await this.describe();
    const ptz = this.device.services.ptz;
    const profile = profileToken ?? d.profiles[0]?.token;
    if (!ptz || !profile) return [];
    try {
      const r = await ptz.getPresets({ ProfileToken: profile });
      const body = r.data['GetPresetsResponse'] as { Preset?: unknown } | undefined;
      const list = body?.Preset === undefined ? [] : Array.isArray(body.Preset) ? body.Preset : [body.Preset];
      return list.map((p) => {
        const x = p as { $?: { token?: string }; Name?: string };
        return { token: String(x.$?.token ?? ''), name: String(x.Name ?? '') };
      });
    } catch (err) {
      throw retyped(err, 'GetPresets');
    }
  }

  /** Forget this camera's transport context. */
  close(): void {
    const ctx = contexts.get(this.key);
    if (ctx && --ctx.refs <= 0) contexts.delete(this.key);
  }
}

/** node-onvif re-wraps errors as `new Error('... ' + err)`: restore the kind from the text. */
function retyped(err: unknown, what: string): OnvifError {
  if (err instanceof OnvifError) return err;
  const message = (err as Error)?.message ?? String(err);
  const kind: OnvifErrorKind =
    kindOf(err) ?? (/401|NotAuthorized|Unauthorized/i.test(message) ? 'auth' : /Network Error|ECONN|ETIMEDOUT/i.test(message) ? 'network' : 'fault');
  return new OnvifError(kind, `${what}: ${message.replace(/^.*?ONVIF \w+: /, '')}`, { url: '', op: what });
}
