import { ALARM_CATEGORIES, type AlarmCategory } from '../../gateway/core/alarm.ts';
import { boxEvent } from '../../gateway/core/events.ts';
import { uuidv7 } from '../../gateway/core/ids.ts';
import type { Store } from '../../gateway/store/store.ts';

const DAY = 86_400_000;
const MIN = 60_000;

/**
 * A month of handled alarms and a few outages, written with their real past
 * times (the store's API stamps "now"), so the reports page has something
 * to draw. Test data only.
 */
export async function seedHistory(store: Store, grids: string[], devices: string[], now = Date.now()): Promise<void> {
  let rnd = 42;
  const random = () => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const titles: Record<AlarmCategory, string> = {
    public_order: '周界入侵',
    fire: '烟感报警',
    device_fault: '设备离线',
    help: '一键求助',
    hazard: '消防通道占用',
  };
  const rows: {
    id: string;
    at: number;
    level: number;
    category: AlarmCategory;
    grid: string;
    device: string;
    accept: number;
    close: number;
    status: string;
  }[] = [];
  for (let d = 27; d >= 1; d--) {
    const n = 2 + Math.floor(random() * 5);
    for (let i = 0; i < n; i++) {
      const at = now - d * DAY + Math.floor(random() * DAY * 0.9);
      const category = ALARM_CATEGORIES[Math.floor(random() * ALARM_CATEGORIES.length)]!;
      const accept = at + Math.floor((1 + random() * 9) * MIN);
      const close = accept + Math.floor((10 + random() * 120) * MIN);
      const status = random() < 0.12 ? 'false_alarm' : 'resolved';
      rows.push({
        id: uuidv7(at),
        at,
        level: 1 + Math.floor(random() * 3),
        category,
        grid: grids[Math.floor(random() * grids.length)]!,
        device: devices[Math.floor(random() * devices.length)]!,
        accept,
        close,
        status,
      });
    }
  }
  await store.writer.submit({
    build: (next) => ({
      statements: rows.flatMap((r) => {
        const open = next('alarm_history');
        const acc = next('alarm_history');
        const end = r.status === 'accepted' ? null : next('alarm_history');
        const last = end ?? acc;
        return [
          {
            sql: `INSERT INTO alarms (id, change_seq, rule, level, category, title, status, device_id, grid, opened_at, updated_at, accept_by, close_by, evidence, snapshots)
                  VALUES (?, ?, 'seed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]')`,
            params: [
              r.id,
              last,
              r.level,
              r.category,
              titles[r.category],
              r.status,
              r.device,
              r.grid,
              r.at,
              r.status === 'accepted' ? r.accept : r.close,
              r.at + 15 * MIN,
              r.at + 240 * MIN,
            ],
          },
          {
            sql: `INSERT INTO alarm_history (seq, alarm_id, at, action, actor, from_status, to_status) VALUES (?, ?, ?, 'open', 'rule:seed', NULL, 'new')`,
            params: [open, r.id, r.at],
          },
          {
            sql: `INSERT INTO alarm_history (seq, alarm_id, at, action, actor, from_status, to_status) VALUES (?, ?, ?, 'accept', 'baoan', 'new', 'accepted')`,
            params: [acc, r.id, r.accept],
          },
          ...(end
            ? [
                {
                  sql: `INSERT INTO alarm_history (seq, alarm_id, at, action, actor, from_status, to_status, note) VALUES (?, ?, ?, ?, 'baoan', 'accepted', ?, '现场已处置')`,
                  params: [end, r.id, r.close, r.status === 'false_alarm' ? 'false_alarm' : 'resolve', r.status],
                },
              ]
            : []),
        ];
      }),
      result: undefined,
    }),
  });
  // Two devices were down for a while yesterday.
  for (const [id, hours] of [
    [devices[1]!, 5],
    [devices[3]!, 2],
  ] as const) {
    const at = now - DAY + 3 * 3600_000;
    await store.events.append({ ...boxEvent('device_offline', { reason: 'power cut' }, at), deviceId: id, deviceTime: null, clockTrusted: false });
    await store.events.append({ ...boxEvent('device_offline', {}, at + hours * 3600_000, false), deviceId: id, deviceTime: null, clockTrusted: false });
  }
}
