/** The drain benchmark's backlog: realistic envelopes bodies, alarms mixed in, written straight through the store's outbox API. */
import type { Lane } from '../gateway/core/events.ts';
import type { NewOutboxEntry } from '../gateway/core/outbox.ts';
import type { Store } from '../gateway/store/store.ts';

const GRIDS = ['320602001001-01', '320602001001-02', '320602001001-03'];

/** Entry i of the backlog: every `alarmEvery`-th an alarm.opened, the rest 2/3 access records and 1/3 device status. */
export function backlogEntry(i: number, now: number, alarmEvery: number): NewOutboxEntry {
  const grid = GRIDS[i % GRIDS.length]!;
  if (i % alarmEvery === 0) {
    return {
      lane: 'alarm',
      type: 'alarm.opened',
      occurredAt: now,
      body: {
        alarm: {
          id: `alarm-${i}`,
          changeSeq: i + 1,
          rule: 'perimeter-intrusion',
          level: 1,
          category: 'public_order',
          title: '东围墙周界报警',
          status: 'new',
          deviceId: 'panel-1',
          grid,
          openedAt: now,
          updatedAt: now,
          acceptBy: now + 300_000,
          closeBy: now + 3_600_000,
          escalated: false,
          overdue: false,
          count: 1,
          evidence: [`ev-${i}`],
          snapshots: [],
          countyStatus: null,
        },
        change: { at: now, action: 'open', actor: 'rule:perimeter-intrusion', from: null, to: 'new' },
      },
    };
  }
  const lane: Lane = i % 3 === 0 ? 'status' : 'record';
  if (lane === 'status')
    return {
      lane,
      type: 'device.status',
      occurredAt: now,
      body: {
        deviceId: `cam-${i % 24}`,
        gbId: '32060200011320000002',
        kind: 'onvif_camera',
        grid,
        online: i % 2 === 0,
        eventChannel: 'alive',
        lastSeen: now,
        detail: null,
        at: now,
      },
    };
  return {
    lane,
    type: 'event',
    occurredAt: now,
    body: {
      eventId: `ev-${i}`,
      eventSeq: i + 1,
      kind: 'access_granted',
      active: true,
      deviceId: `door-b${i % 8}`,
      gbId: '32060200011240000011',
      grid,
      place: { building: `${(i % 8) + 1}栋`, unit: '1单元', point: 'entrance' },
      source: null,
      deviceTime: now - 40,
      receivedAt: now,
      clockTrusted: true,
      attrs: { method: 'card', credentialHash: 'c2FsdGVkLWhhc2gtb2YtYS1jYXJk' },
    },
  };
}

/** Write `n` entries in commits of `chunk`; returns the entries/s of the fill. */
export async function fillBacklog(store: Store, n: number, alarmEvery: number, chunk = 4000): Promise<{ perSecond: number; alarms: number }> {
  const started = performance.now();
  const now = Date.now();
  let alarms = 0;
  for (let i = 0; i < n; i += chunk) {
    const batch: NewOutboxEntry[] = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) {
      const e = backlogEntry(j, now, alarmEvery);
      if (e.lane === 'alarm') alarms++;
      batch.push(e);
    }
    await store.outbox.enqueue(batch);
  }
  return { perSecond: Math.round((n * 1000) / (performance.now() - started)), alarms };
}
