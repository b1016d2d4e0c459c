import type { EventKind } from '../core/events.ts';

/** How the alarm history names event kinds (zh-CN first, as the panel shows them). */
export const KIND_LABELS: Partial<Record<EventKind, string>> = {
  motion: '移动侦测',
  tamper: '防拆/遮挡',
  line_crossing: '越界',
  intrusion: '区域入侵',
  digital_input: '报警输入',
  event_channel_lost: '事件通道中断',
  zone_alarm: '防区报警',
  armed: '布防',
  disarmed: '撤防',
  trouble: '主机故障',
  door_open: '开门',
  door_forced: '门被强开',
  door_held_open: '门长时间未关',
  sos: '一键报警',
  smoke: '烟感报警',
  water_leak: '水浸',
  gas: '燃气泄漏',
  occupancy: '红外感应',
  device_offline: '设备离线',
  device_silent: '设备无上报',
  storage_loss: '存储丢弃',
  storage_recovered: '数据库恢复',
};

export const kindLabel = (k: EventKind): string => KIND_LABELS[k] ?? k;

export const LEVEL_LABELS = { 1: '一级', 2: '二级', 3: '三级' } as const;

/** Duration in words: 45 秒, 5 分钟, 2 小时. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} 秒`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} 分钟`;
  return `${Math.round(m / 60)} 小时`;
}
