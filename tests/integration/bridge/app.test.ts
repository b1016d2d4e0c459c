import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../gateway/app.ts';
import { CountyReceiver, type Envelope } from '../../../simulators/county-platform/index.ts';
import { smallSite, startApp } from '../../helpers/app.ts';
import { connect, end, publish } from '../../helpers/mqtt.ts';
import { tempDir } from '../../helpers/store.ts';
import { waitFor } from './helpers.ts';

const TOKEN = 'county-app-token';
const t = tempDir('shouwang-bridge-app-');
let county: CountyReceiver;
let app: App & { mqttUrl: string };
const seen: Envelope[] = [];

beforeAll(async () => {
  county = await new CountyReceiver({
    tokens: [TOKEN],
    onBatch: () => {},
  }).start();
  // Keep every envelope as it arrived, to look at bodies.
  const process = county.accounting.process.bind(county.accounting);
  county.accounting.process = (boxId, envelopes, opts) => {
    seen.push(...(envelopes as Envelope[]));
    return process(boxId, envelopes, opts);
  };
  app = await startApp(
    t.dir,
    smallSite({ upstream: { county: { url: county.url, auth: { type: 'bearer', token: TOKEN }, heartbeatSeconds: 3600, deviceStatusSeconds: 1 } } }),
  );
});
afterAll(async () => {
  await app?.stop();
  await county?.stop();
  t.cleanup();
});

const byType = (type: string) => seen.filter((e) => e.type === type);

describe('the gateway pushes to the county', () => {
  it('announces itself: box_started and a heartbeat with queue depths, disk, loss, uptime and version', async () => {
    await waitFor(() => byType('box.heartbeat').length > 0 && byType('event').length > 0, 'the first heartbeat and box_started');
    const started = byType('event').find((e) => (e.body as { kind: string }).kind === 'box_started')!;
    expect(started).toMatchObject({ boxId: 'sw-320602-010', lane: 'status', body: { deviceId: '_box', attrs: { version: 'test' } } });
    const hb = byType('box.heartbeat')[0]!.body as Record<string, unknown>;
    expect(hb).toMatchObject({ version: 'test', deadLetters: 0, loss: { sinceLast: { shed: 0, evicted: 0 }, total: { shed: 0, evicted: 0 } } });
    expect(hb.lanes).toEqual([
      { lane: 'alarm', depth: 0, oldestUnsentAgeSeconds: null },
      { lane: 'record', depth: 0, oldestUnsentAgeSeconds: null },
      { lane: 'status', depth: expect.any(Number), oldestUnsentAgeSeconds: expect.any(Number) },
    ]);
    expect(hb.disk).toMatchObject({ freeMb: expect.any(Number), budgetStage: 0 });
  });

  it('sends a device event with its grid and place, and a device.status when a device comes online', async () => {
    const door = await connect(app.mqttUrl, { clientId: 'door-1', username: 'door-1', password: 'door-1-demo' });
    await publish(door, 'sw/v1/door-1/event', JSON.stringify({ id: 'd1-1', type: 'door', state: 'forced' }));
    await waitFor(() => byType('event').some((e) => (e.body as { kind: string }).kind === 'door_forced'), 'the door_forced event upstream');
    const ev = byType('event').find((e) => (e.body as { kind: string }).kind === 'door_forced')!;
    expect(ev).toMatchObject({ lane: 'alarm', body: { deviceId: 'door-1', grid: '320602001001-01', place: { point: 'entrance' }, active: true } });
    await waitFor(() => byType('device.status').some((e) => (e.body as { deviceId: string }).deviceId === 'door-1'), 'door-1 online upstream', 10_000);
    expect(byType('device.status').find((e) => (e.body as { deviceId: string }).deviceId === 'door-1')!.body).toMatchObject({
      deviceId: 'door-1',
      online: true,
      grid: '320602001001-01',
      kind: 'access_controller',
    });
    await end(door);
    await waitFor(
      () =>
        byType('device.status').some((e) => (e.body as { deviceId: string; online: boolean }).deviceId === 'door-1' && !(e.body as { online: boolean }).online),
      'door-1 offline upstream',
      10_000,
    );
  });

  it('delivers a new alarm and each change of it as it happens, within a fraction of a second', async () => {
    const opened = Date.now();
    const a = await app.store.alarms.open(
      {
        rule: 'forced-door',
        level: 1,
        category: 'public_order',
        title: '1栋1单元门被强行打开',
        deviceId: 'door-1',
        grid: '320602001001-01',
        openedAt: opened,
        acceptBy: null,
        closeBy: null,
        evidence: [],
        snapshots: [],
      },
      'rule:forced-door',
    );
    await waitFor(() => byType('alarm.opened').some((e) => (e.body as { alarm: { id: string } }).alarm.id === a.id), 'alarm.opened upstream', 2000);
    const latency = Date.now() - opened;
    expect(latency).toBeLessThan(300);
    await app.store.alarms.act(a.id, 'accept', '保安王师傅');
    await waitFor(
      () => byType('alarm.updated').some((e) => (e.body as { change: { action: string } }).change.action === 'accept'),
      'alarm.updated upstream',
      2000,
    );
    const b = county.accounting.report().boxes[0]!;
    expect(b.gaps).toBe(0);
    // the rules may open alarms of their own meanwhile (a door that went away); this one arrived once
    expect(byType('alarm.opened').filter((e) => (e.body as { alarm: { id: string } }).alarm.id === a.id)).toHaveLength(1);
    expect(county.accounting.alarmStates('sw-320602-010').get(a.id)).toMatchObject({ status: 'accepted' });
  });
});
