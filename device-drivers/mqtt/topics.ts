/**
 * Topics of the Shouwang MQTT device contract (docs/mqtt-contract.md):
 * everything of one device sits under `sw/v1/<deviceId>/`.
 */

export const PREFIX = 'sw/v1';

export const CHANNELS = ['event', 'state', 'status', 'cmd', 'cmd/ack'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface DeviceTopics {
  /** device → box: one event (JSON). */
  event: string;
  /** device → box, retained: the state snapshot (JSON). */
  state: string;
  /** device → box, retained: `online` / `offline` (the will). */
  status: string;
  /** box → device: a command (JSON). */
  cmd: string;
  /** device → box: a command's outcome (JSON). */
  cmdAck: string;
}

export function topicsFor(deviceId: string): DeviceTopics {
  const base = `${PREFIX}/${deviceId}`;
  return { event: `${base}/event`, state: `${base}/state`, status: `${base}/status`, cmd: `${base}/cmd`, cmdAck: `${base}/cmd/ack` };
}

const PREFIX_LEVELS = PREFIX.split('/');
const SINGLE_LEVEL = new Set<string>(['event', 'state', 'status', 'cmd']);

/**
 * The device and channel of a contract topic, or null for anything else:
 * another prefix, an empty or wildcard device id, an unknown channel, extra levels.
 */
export function parseTopic(topic: string): { deviceId: string; channel: Channel } | null {
  const levels = topic.split('/');
  if (levels.length < PREFIX_LEVELS.length + 2) return null;
  for (let i = 0; i < PREFIX_LEVELS.length; i++) if (levels[i] !== PREFIX_LEVELS[i]) return null;
  const deviceId = levels[PREFIX_LEVELS.length]!;
  if (deviceId.length === 0 || deviceId.length > 64 || deviceId.includes('+') || deviceId.includes('#')) return null;
  const rest = levels.slice(PREFIX_LEVELS.length + 1);
  if (rest.length === 1 && SINGLE_LEVEL.has(rest[0]!)) return { deviceId, channel: rest[0] as Channel };
  if (rest.length === 2 && rest[0] === 'cmd' && rest[1] === 'ack') return { deviceId, channel: 'cmd/ack' };
  return null;
}
