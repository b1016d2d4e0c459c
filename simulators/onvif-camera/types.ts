/** What a simulated camera is and how it misbehaves. The simulator speaks ONVIF only; nothing here comes from the gateway. */

export interface SimTimer {
  cancel(): void;
}

/** Time for the simulator: the real clock by default; a test may pass a fake one (same shape as the gateway's FakeClock). */
export interface SimClock {
  now(): number;
  setTimer(ms: number, fn: () => void): SimTimer;
}

export const realClock: SimClock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Payload style: how topics, values and timestamps look (the quirks the box must read). */
export const FLAVOURS = ['standard', 'hikvision', 'dahua'] as const;
export type Flavour = (typeof FLAVOURS)[number];

export interface CameraSpec {
  id: string;
  /** TCP port of the camera's HTTP service; 0 picks a free one. */
  port: number;
  username: string;
  password: string;
  name?: string;
  flavour?: Flavour;
  ptz?: boolean;
  /** Digital inputs (alarm inputs) the camera has; default 1. */
  inputs?: number;
  /**
   * 'wsse-or-digest' (default, as the Core spec says): a UsernameToken or HTTP Digest; no credentials → 401.
   * 'digest-only': HTTP Digest only, the UsernameToken is ignored (newer Hikvision firmware can be set so).
   */
  auth?: 'wsse-or-digest' | 'digest-only';
  location?: string;
}

/** Event types the simulated camera can raise, rendered per flavour. */
export const SIM_EVENT_TYPES = ['motion', 'tamper', 'intrusion', 'line', 'input'] as const;
export type SimEventType = (typeof SIM_EVENT_TYPES)[number];

export type SimEvent =
  | { type: SimEventType; active?: boolean; source?: string; rule?: string }
  /** Any topic with explicit items, for vendor topics and tests of unknown topics. */
  | {
      type: 'raw';
      topic: string;
      property: boolean;
      source?: Record<string, string>;
      key?: Record<string, string>;
      data?: Record<string, string>;
      /** UtcTime as sent (e.g. "0000-00-00T00:00:00Z"); default: the camera's time now. */
      utcTime?: string;
    };

export type SimLog = (line: string) => void;
