import type { Principal } from '../core/mqtt.ts';

/**
 * Topic policy as small pure functions. A device publishes only under its
 * own prefix (event, state, status, cmd/ack) and subscribes only to its own
 * command topic; a bridge (zigbee2mqtt, ...) only under its base topic.
 * `$SYS` and wildcards that reach beyond a principal's own space are closed.
 */
export const PREFIX = 'sw/v1';
const DEVICE_PUBLISH = ['event', 'state', 'status', 'cmd/ack'];

export type Verdict = { ok: true } | { ok: false; reason: string };
const ok: Verdict = { ok: true };
const no = (reason: string): Verdict => ({ ok: false, reason });

export function canPublish(p: Principal, topic: string, bridgeBase?: string): Verdict {
  if (topic.startsWith('$')) return no(`publishing to ${topic} is not allowed`);
  if (p.kind === 'device') {
    const own = `${PREFIX}/${p.id}/`;
    if (!topic.startsWith(own)) return no(`device ${p.id} may publish only under ${own} (got ${topic})`);
    const channel = topic.slice(own.length);
    if (!DEVICE_PUBLISH.includes(channel)) return no(`device ${p.id} may not publish to ${topic}: use ${DEVICE_PUBLISH.map((c) => own + c).join(', ')}`);
    return ok;
  }
  const base = `${bridgeBase ?? p.id}/`;
  if (!topic.startsWith(base) || topic.length === base.length) return no(`bridge ${p.id} may publish only under ${base} (got ${topic})`);
  return ok;
}

export function canSubscribe(p: Principal, filter: string, bridgeBase?: string): Verdict {
  if (filter.startsWith('$') || filter === '#' || filter.startsWith('+')) return no(`subscribing to ${filter} is not allowed`);
  if (p.kind === 'device') {
    const cmd = `${PREFIX}/${p.id}/cmd`;
    return filter === cmd ? ok : no(`device ${p.id} may subscribe only to ${cmd} (got ${filter})`);
  }
  const base = `${bridgeBase ?? p.id}/`;
  return filter.startsWith(base) ? ok : no(`bridge ${p.id} may subscribe only under ${base} (got ${filter})`);
}
