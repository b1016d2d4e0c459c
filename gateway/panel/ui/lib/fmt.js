import { lang, t } from './i18n.js';

let offset = 0;
/** Align with the server's clock, so "time since opened" does not drift with a phone's clock. */
export function setServerNow(serverNow) {
  offset = serverNow - Date.now();
}
export const now = () => Date.now() + offset;

const pad = (n) => String(n).padStart(2, '0');

export function time(ts) {
  if (ts === null || ts === undefined) return '—';
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clock(ts) {
  if (ts === null || ts === undefined) return '—';
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration the way a guard reads it: 42秒, 3分12秒, 2小时5分, 3天4小时. */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  const zh = lang() === 'zh-CN';
  const u = zh ? { d: '天', h: '小时', m: '分', s: '秒' } : { d: 'd ', h: 'h ', m: 'm ', s: 's' };
  if (s < 60) return `${s}${u.s}`;
  if (s < 3600) return `${Math.floor(s / 60)}${u.m}${s % 60}${u.s}`.trim();
  if (s < 86400) return `${Math.floor(s / 3600)}${u.h}${Math.floor((s % 3600) / 60)}${u.m}`.trim();
  return `${Math.floor(s / 86400)}${u.d}${Math.floor((s % 86400) / 3600)}${u.h}`.trim();
}

export const ago = (ts) => (ts ? t('ago', { d: duration(now() - ts) }) : '—');

export function percent(r, digits = 1) {
  return r === null || r === undefined ? '—' : `${(r * 100).toFixed(digits)}%`;
}
