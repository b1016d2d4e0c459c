import type { SimCamera } from './camera.ts';
import { badArg, notSupported, ok, type Reply } from './soap.ts';
import { str, x, type Node } from './xml.ts';

/** Device, media and PTZ services of the simulated camera (the events service is in events.ts). */

/** Operations any client may call without credentials (ONVIF access class PRE_AUTH). */
export const PRE_AUTH = new Set(['GetSystemDateAndTime', 'GetCapabilities', 'GetServices', 'GetWsdlUrl', 'GetEndpointReference']);

function dateTime(ms: number): string {
  const d = new Date(ms);
  return (
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>`
  );
}

function vendor(cam: SimCamera): { manufacturer: string; model: string } {
  switch (cam.flavour) {
    case 'hikvision':
      return { manufacturer: 'HIKVISION', model: 'DS-2CD2T47G2-L (sim)' };
    case 'dahua':
      return { manufacturer: 'Dahua', model: 'IPC-HFW2431S-S-S2 (sim)' };
    default:
      return { manufacturer: 'Shouwang Sim', model: cam.spec.ptz ? 'SW-PTZ-4MP' : 'SW-IPC-4MP' };
  }
}

export function deviceInformation(cam: SimCamera): Reply {
  const v = vendor(cam);
  return ok(
    `<tds:GetDeviceInformationResponse><tds:Manufacturer>${x(v.manufacturer)}</tds:Manufacturer><tds:Model>${x(v.model)}</tds:Model>` +
      `<tds:FirmwareVersion>V5.7.3 build 230913</tds:FirmwareVersion><tds:SerialNumber>SIM${x(cam.urn.slice(-12).toUpperCase())}</tds:SerialNumber>` +
      `<tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>`,
  );
}

export function handleDevice(cam: SimCamera, op: string, _body: Node): Reply | null {
  const base = `http://${cam.address}:${cam.port}/onvif`;
  switch (op) {
    case 'GetSystemDateAndTime': {
      const now = cam.now();
      return ok(
        `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>${cam.faults.clockSkewMs ? 'Manual' : 'NTP'}</tt:DateTimeType>` +
          `<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>` +
          (cam.faults.noDate ? '' : `<tt:UTCDateTime>${dateTime(now)}</tt:UTCDateTime><tt:LocalDateTime>${dateTime(now + 8 * 3600_000)}</tt:LocalDateTime>`) +
          `</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
      );
    }
    case 'GetCapabilities':
      return ok(
        `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
          `<tt:Device><tt:XAddr>${base}/device_service</tt:XAddr></tt:Device>` +
          `<tt:Events><tt:XAddr>${base}/events_service</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
          `<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>` +
          `<tt:Media><tt:XAddr>${base}/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
          `<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
          (cam.spec.ptz ? `<tt:PTZ><tt:XAddr>${base}/ptz_service</tt:XAddr></tt:PTZ>` : '') +
          `</tds:Capabilities></tds:GetCapabilitiesResponse>`,
      );
    case 'GetServices': {
      const svc = (ns: string, path: string, major: number, minor: number) =>
        `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${base}/${path}</tds:XAddr><tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
      return ok(
        `<tds:GetServicesResponse>${svc('http://www.onvif.org/ver10/device/wsdl', 'device_service', 2, 60)}` +
          `${svc('http://www.onvif.org/ver10/media/wsdl', 'media_service', 2, 60)}${svc('http://www.onvif.org/ver10/events/wsdl', 'events_service', 2, 60)}` +
          `${cam.spec.ptz ? svc('http://www.onvif.org/ver20/ptz/wsdl', 'ptz_service', 2, 60) : ''}</tds:GetServicesResponse>`,
      );
    }
    case 'GetDeviceInformation':
      return deviceInformation(cam);
    case 'GetScopes':
      return ok(
        `<tds:GetScopesResponse>${scopes(cam)
          .map((s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${x(s)}</tt:ScopeItem></tds:Scopes>`)
          .join('')}</tds:GetScopesResponse>`,
      );
    case 'GetHostname':
      return ok(
        `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${x(cam.id)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`,
      );
    default:
      return null;
  }
}

export function scopes(cam: SimCamera): string[] {
  const v = vendor(cam);
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '_');
  return [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/type/Network_Video_Transmitter',
    'onvif://www.onvif.org/Profile/Streaming',
    ...(cam.spec.ptz ? ['onvif://www.onvif.org/type/ptz'] : []),
    `onvif://www.onvif.org/name/${enc(cam.spec.name ?? cam.id)}`,
    `onvif://www.onvif.org/hardware/${enc(v.model.replace(/ \(sim\)$/, ''))}`,
    `onvif://www.onvif.org/location/${enc(cam.spec.location ?? 'estate')}`,
  ];
}

const PROFILES = [
  { token: 'Profile_1', name: 'mainStream', width: 2560, height: 1440, fps: 25, bitrate: 4096, path: '101' },
  { token: 'Profile_2', name: 'subStream', width: 640, height: 360, fps: 15, bitrate: 512, path: '102' },
];

function profileXml(cam: SimCamera, p: (typeof PROFILES)[number]): string {
  const ptz = cam.spec.ptz
    ? `<tt:PTZConfiguration token="PTZToken"><tt:Name>PTZ</tt:Name><tt:UseCount>2</tt:UseCount><tt:NodeToken>PTZNODETOKEN</tt:NodeToken>` +
      `<tt:PanTiltLimits><tt:Range><tt:URI>http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace</tt:URI>` +
      `<tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange><tt:YRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:YRange></tt:Range></tt:PanTiltLimits>` +
      `<tt:ZoomLimits><tt:Range><tt:URI>http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:Range></tt:ZoomLimits></tt:PTZConfiguration>`
    : '';
  return (
    `<trt:Profiles token="${p.token}" fixed="true"><tt:Name>${p.name}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount>` +
    `<tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="2560" height="1440"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="VideoEncoder_${p.path}"><tt:Name>VideoEncoder_${p.path}</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
    `<tt:Quality>3</tt:Quality><tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
    `<tt:BitrateLimit>${p.bitrate}</tt:BitrateLimit></tt:RateControl><tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>` +
    `<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL>` +
    `<tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>` +
    `${ptz}</trt:Profiles>`
  );
}

export function handleMedia(cam: SimCamera, op: string, body: Node): Reply | null {
  const token = str(body, 'ProfileToken');
  const profile = PROFILES.find((p) => p.token === token);
  switch (op) {
    case 'GetProfiles':
      return ok(`<trt:GetProfilesResponse>${PROFILES.map((p) => profileXml(cam, p)).join('')}</trt:GetProfilesResponse>`);
    case 'GetProfile':
      if (!profile) return badArg(`no profile ${JSON.stringify(token)}`);
      return ok(`<trt:GetProfileResponse>${profileXml(cam, profile).replace(/trt:Profiles/g, 'trt:Profile')}</trt:GetProfileResponse>`);
    case 'GetVideoSources':
      return ok(
        `<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1"><tt:Framerate>25</tt:Framerate>` +
          `<tt:Resolution><tt:Width>2560</tt:Width><tt:Height>1440</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`,
      );
    case 'GetStreamUri': {
      if (!profile) return badArg(`no profile ${JSON.stringify(token)}`);
      const protocol = str(body, 'StreamSetup', 'Transport', 'Protocol') ?? 'RTSP';
      if (protocol !== 'RTSP' && protocol !== 'UDP' && protocol !== 'TCP') return badArg(`transport ${protocol} is not supported`);
      const uri = `rtsp://${cam.address}:554/Streaming/Channels/${profile.path}?transportmode=unicast&profile=${profile.token}`;
      return ok(
        `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
          `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`,
      );
    }
    case 'GetSnapshotUri': {
      if (!profile) return badArg(`no profile ${JSON.stringify(token)}`);
      const uri = `http://${cam.address}:${cam.port}/onvif/snapshot?channel=1&profile=${profile.token}`;
      return ok(
        `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
          `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`,
      );
    }
    default:
      return null;
  }
}

export function handlePtz(cam: SimCamera, op: string, body: Node): Reply | null {
  if (!cam.spec.ptz) return op.startsWith('Goto') || op.endsWith('Presets') || op === 'GetNodes' ? notSupported(op) : null;
  switch (op) {
    case 'GetNodes':
      return ok(
        `<tptz:GetNodesResponse><tptz:PTZNode token="PTZNODETOKEN" FixedHomePosition="false"><tt:Name>PTZNODE</tt:Name>` +
          `<tt:SupportedPTZSpaces/><tt:MaximumNumberOfPresets>255</tt:MaximumNumberOfPresets><tt:HomeSupported>true</tt:HomeSupported></tptz:PTZNode></tptz:GetNodesResponse>`,
      );
    case 'GetPresets':
      return ok(
        `<tptz:GetPresetsResponse>${cam.presets.map((p) => `<tptz:Preset token="${x(p.token)}"><tt:Name>${x(p.name)}</tt:Name></tptz:Preset>`).join('')}</tptz:GetPresetsResponse>`,
      );
    case 'GotoPreset': {
      const preset = str(body, 'PresetToken');
      if (!cam.presets.some((p) => p.token === preset)) return badArg(`no preset ${JSON.stringify(preset)} (ter:NoToken)`);
      cam.ptzPreset = preset!;
      return ok('<tptz:GotoPresetResponse/>');
    }
    case 'GetStatus':
      return ok(
        `<tptz:GetStatusResponse><tptz:PTZStatus><tt:MoveStatus><tt:PanTilt>IDLE</tt:PanTilt><tt:Zoom>IDLE</tt:Zoom></tt:MoveStatus>` +
          `<tt:UtcTime>${new Date(cam.now()).toISOString()}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`,
      );
    case 'Stop':
      return ok('<tptz:StopResponse/>');
    default:
      return null;
  }
}
