/* global EventSource, window */
/**
 * The live feed (server-sent events): alarm, event, device and walk messages.
 * EventSource reconnects by itself; the header shows when the link is down.
 */
const handlers = new Map();
let source = null;
let stateListener = () => {};

export function onLive(topic, fn) {
  if (!handlers.has(topic)) handlers.set(topic, new Set());
  handlers.get(topic).add(fn);
  return () => handlers.get(topic).delete(fn);
}

export function onLiveState(fn) {
  stateListener = fn;
}

export function startLive() {
  if (source) return;
  source = new EventSource('/api/stream');
  source.onopen = () => stateListener(true);
  source.onerror = () => stateListener(false);
  for (const topic of ['alarm', 'event', 'device', 'walk', 'discovery', 'hello']) {
    source.addEventListener(topic, (e) => {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      for (const fn of handlers.get(topic) ?? []) fn(data);
    });
  }
  source.addEventListener('session', () => window.location.assign('/login'));
}
