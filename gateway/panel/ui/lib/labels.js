import { t } from './i18n.js';

export const CATEGORIES = ['public_order', 'fire', 'device_fault', 'help', 'hazard'];
export const STATUSES = ['new', 'accepted', 'dispatched', 'resolved', 'false_alarm'];
export const KINDS = ['onvif_camera', 'alarm_panel', 'access_controller', 'sos_button', 'sensor', 'siren', 'loudspeaker', 'mqtt_mapped'];
export const POINTS = ['gate', 'perimeter', 'entrance', 'intersection', 'public_area'];
export const ROLES = ['manager', 'guard', 'installer', 'viewer'];

export const catLabel = (c) => t(`cat_${c}`);
export const statusLabel = (s) => t(`st_${s}`);
export const kindLabel = (k) => t(`k_${k}`);
export const pointLabel = (p) => t(`p_${p}`);
export const roleLabel = (r) => t(`role${r[0].toUpperCase()}${r.slice(1)}`);
export const actionLabel = (a) => t(`act_${a}`);

/** Event kinds as guards say them. */
const EVENT_ZH = {
  zone_alarm: ['防区报警', 'Zone alarm'],
  door_forced: ['门被强行打开', 'Door forced'],
  door_held_open: ['门长时间未关', 'Door held open'],
  door_open: ['开门', 'Door opened'],
  access_granted: ['刷卡/人脸通行', 'Access granted'],
  access_denied: ['通行被拒', 'Access denied'],
  sos: ['一键报警', 'SOS'],
  smoke: ['烟感报警', 'Smoke'],
  water_leak: ['水浸', 'Water leak'],
  gas: ['燃气泄漏', 'Gas'],
  tamper: ['防拆/遮挡', 'Tamper'],
  motion: ['移动侦测', 'Motion'],
  line_crossing: ['越线', 'Line crossing'],
  intrusion: ['区域入侵', 'Intrusion'],
  armed: ['布防', 'Armed'],
  disarmed: ['撤防', 'Disarmed'],
  trouble: ['故障', 'Trouble'],
  device_offline: ['离线', 'Offline'],
  device_silent: ['长时间无上报', 'Silent'],
  event_channel_lost: ['事件通道中断', 'Event channel lost'],
  battery_low: ['电量低', 'Battery low'],
  contact: ['门磁', 'Contact'],
  occupancy: ['红外感应', 'Occupancy'],
};
/** An event as guards say it; an inactive one is the condition ending (恢复). */
export function eventLabel(k, lang, active = true) {
  const name = EVENT_ZH[k] ? EVENT_ZH[k][lang === 'en' ? 1 : 0] : k;
  if (active) return name;
  if (k === 'device_offline') return lang === 'en' ? 'Back online' : '恢复在线';
  return lang === 'en' ? `${name} ended` : `${name}恢复`;
}

export function placeText(p) {
  if (!p) return '—';
  return [p.building, p.unit, pointLabel(p.point)].filter(Boolean).join(' · ');
}
