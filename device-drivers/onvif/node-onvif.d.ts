/** Types for the parts of node-onvif 0.1.7 (CommonJS, untyped) that the adapter uses. */
declare module 'node-onvif' {
  export interface NodeOnvifProfile {
    token: string;
    name: string;
    snapshot: string;
    stream: { udp: string; http: string; rtsp: string };
    video: {
      source: { token: string; name: string; bounds: { width: number; height: number; x: number; y: number } } | null;
      encoder: {
        token: string;
        name: string;
        resolution: { width: number; height: number };
        quality: number;
        framerate: number;
        bitrate: number;
        encoding: string;
      } | null;
    };
  }
  export interface NodeOnvifResult {
    data: Record<string, unknown>;
  }
  export class OnvifDevice {
    constructor(params: { xaddr?: string; address?: string; user?: string; pass?: string });
    init(): Promise<Record<string, string>>;
    getInformation(): Record<string, string> | null;
    getProfileList(): NodeOnvifProfile[];
    time_diff: number;
    services: {
      ptz: {
        gotoPreset(p: { ProfileToken: string; PresetToken: string }): Promise<NodeOnvifResult>;
        getPresets(p: { ProfileToken: string }): Promise<NodeOnvifResult>;
      } | null;
    };
  }
  interface OnvifSoapModule {
    HTTP_TIMEOUT: number;
    _request(
      oxaddr: { protocol?: string | null; hostname?: string | null; port?: string | null; pathname?: string | null; auth?: string | null },
      soap: string,
    ): Promise<string>;
  }
  const onvif: { OnvifDevice: typeof OnvifDevice; _OnvifSoap: OnvifSoapModule };
  export default onvif;
}
