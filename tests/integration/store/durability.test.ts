import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { Db } from '../../../gateway/store/db.ts';
import { migrate, SCHEMA_VERSION } from '../../../gateway/store/migrations.ts';
import { DB_NAME, type Store } from '../../../gateway/store/store.ts';
import { openStore, sampleEvent, storeOptions, tempDir } from '../../helpers/store.ts';

let t: ReturnType<typeof tempDir>;
let store: Store | null = null;
beforeEach(() => {
  t = tempDir();
});
afterEach(async () => {
  await store?.close().catch(() => {});
  store = null;
  t.cleanup();
});

const MB = 1024 * 1024;

describe('disk budget', () => {
  it('over the size budget sheds and evicts status first, keeps taking alarms, and counts every lost row', async () => {
    store = await openStore(t.dir, {
      budget: { ...storeOptions(t.dir).budget, maxDbBytes: 2 * MB, hardCapBytes: 64 * MB },
    });
    const forward = (e: { id: string; receivedAt: number; lane: 'alarm' | 'record' | 'status' }) => ({
      lane: e.lane,
      type: 'event' as const,
      occurredAt: e.receivedAt,
      body: { id: e.id, pad: 'x'.repeat(300) },
    });
    // Fill well past 2 MB with status traffic.
    for (let i = 0; i < 12; i++) await Promise.all(Array.from({ length: 500 }, () => store!.events.append(sampleEvent('motion', 'cam-1'), { forward })));
    let usage = await store.budget.enforce();
    expect(usage.usedBytes).toBeLessThan(2 * MB);
    expect(store.shedding()).toEqual(['status']);

    // Now the stage is evaluated again: new status rows are refused while over budget...
    await Promise.all(Array.from({ length: 2000 }, () => store!.events.append(sampleEvent('motion', 'cam-2'), { forward })));
    usage = await store.budget.enforce();
    const shedNow = await store.events.append(sampleEvent('motion', 'cam-3'));
    // ...and alarms are always taken before the hard cap.
    const alarm = await store.events.append(sampleEvent('zone_alarm', 'panel-1'), { forward });
    expect(alarm.stored).toBe(true);
    await store.writer.flush();
    await new Promise((r) => setImmediate(r));
    await store.writer.flush();

    const totals = await store.budget.totals();
    const evicted = totals.filter((r) => r.lane === 'status' && r.cause === 'evicted').reduce((n, r) => n + r.count, 0);
    expect(evicted).toBeGreaterThan(1000);
    if (!shedNow.stored) expect(totals.some((r) => r.lane === 'status' && r.cause === 'shed' && r.count >= 1)).toBe(true);
    expect(totals.every((r) => r.lane === 'status')).toBe(true);

    // The loss becomes box events with box.loss outbox entries for the county.
    const reported = await store.budget.reportLoss();
    expect(reported).toBeGreaterThan(0);
    const lossEvents = await store.events.read({ kinds: ['storage_loss'], limit: 100 });
    expect(lossEvents.reduce((n, e) => n + (e.attrs as { count: number }).count, 0)).toBe(totals.reduce((n, r) => n + r.count, 0));
    const outbox = await store.outbox.next(50);
    expect(outbox.filter((e) => e.type === 'box.loss').length).toBe(reported);
    expect(await store.budget.reportLoss()).toBe(0); // nothing reported twice
  });

  it('at the hard cap evicts the oldest alarm-lane rows so new alarms still fit', async () => {
    store = await openStore(t.dir, { budget: { ...storeOptions(t.dir).budget, maxDbBytes: 1 * MB, hardCapBytes: 2 * MB } });
    for (let i = 0; i < 10; i++)
      await Promise.all(Array.from({ length: 500 }, () => store!.events.append({ ...sampleEvent('zone_alarm', 'panel-1'), raw: 'r'.repeat(600) })));
    const before = (await store.budget.measure()).usedBytes;
    expect(before).toBeGreaterThan(2 * MB);
    const usage = await store.budget.enforce();
    expect(usage.usedBytes).toBeLessThan(2 * MB);
    expect(store.shedding()).toEqual(['record', 'status']);
    expect((await store.events.append(sampleEvent('zone_alarm', 'panel-1'))).stored).toBe(true);
    const totals = await store.budget.totals();
    expect(totals.find((r) => r.lane === 'alarm' && r.reason === 'disk_budget:events')?.count).toBeGreaterThan(0);
  });

  it('low free disk sheds status, then records, while alarms are still written', async () => {
    let free = 150 * MB;
    store = await openStore(t.dir, { budget: { ...storeOptions(t.dir).budget, minFreeBytes: 200 * MB, freeBytes: async () => free } });
    await store.budget.enforce();
    expect(store.shedding()).toEqual(['status']);
    expect(await store.events.append(sampleEvent('motion', 'cam-1'))).toEqual({ stored: false, reason: 'shed' });
    expect((await store.events.append(sampleEvent('access_granted', 'door-1'))).stored).toBe(true);
    free = 120 * MB;
    await store.budget.enforce();
    expect(store.shedding()).toEqual(['record', 'status']);
    expect(await store.events.append(sampleEvent('access_granted', 'door-1'))).toEqual({ stored: false, reason: 'shed' });
    expect((await store.events.append(sampleEvent('sos', 'sos-1'))).stored).toBe(true);
    free = 500 * MB;
    await store.budget.enforce();
    expect(store.shedding()).toEqual([]);
  });

  it('evicts undelivered outbox entries past their lane TTL and counts them as loss', async () => {
    const clock = new FakeClock();
    store = await openStore(t.dir, {}, clock);
    await store.outbox.enqueue([
      { lane: 'status', type: 'device.status', occurredAt: 0, body: {} },
      { lane: 'alarm', type: 'alarm.opened', occurredAt: 0, body: {} },
    ]);
    clock.advance(2 * 86_400_000);
    const r = await store.budget.expire();
    expect(r.outbox).toBe(1);
    expect((await store.outbox.next(10)).map((e) => e.lane)).toEqual(['alarm']);
    expect(await store.budget.totals()).toEqual([{ lane: 'status', cause: 'evicted', reason: 'ttl:outbox', count: 1 }]);
  });
});

describe('schema and recovery', () => {
  it('upgrades a database of an earlier schema version without losing its rows', async () => {
    const file = join(t.dir, DB_NAME);
    const old = await Db.open(file);
    await old.exec('PRAGMA journal_mode=WAL');
    await migrate(old, 7); // before the timelines (8) and the held camera subscriptions (9)
    expect(SCHEMA_VERSION).toBe(9);
    await old.run(
      `INSERT INTO events (seq, id, device_id, kind, active, lane, device_time, received_at, clock_offset_ms, clock_trusted, attrs) VALUES (41, 'old-1', 'panel-1', 'zone_alarm', 1, 0, 1, 1, 0, 1, '{"zone":1,"zoneType":"fire"}')`,
    );
    await old.close();
    store = await openStore(t.dir);
    const [e] = await store.events.read();
    expect(e).toMatchObject({ id: 'old-1', seq: 41, attrs: { zone: 1, zoneType: 'fire' } });
    // The upgrade to version 8 put the rows already there on their device's timeline.
    const check = await Db.open(file, { readonly: true });
    expect(await check.all('SELECT device_id, seq FROM events_by_device')).toEqual([{ device_id: 'panel-1', seq: 41 }]);
    await check.close();
    expect(await store.events.read({ deviceIds: ['panel-1'] })).toMatchObject([{ id: 'old-1' }]);
    expect(await store.events.append(sampleEvent('motion', 'cam-1'))).toMatchObject({ seq: 42 });
    await store.devices.upsert([{ deviceId: 'cam-1', reachable: true, eventChannel: 'alive', lastSeen: 5 }]);
    expect(await store.devices.all()).toMatchObject([{ deviceId: 'cam-1', reachable: true }]);
    const held = { deviceId: 'cam-1', address: 'http://127.0.0.1/onvif/pp/1', referenceParameters: '<a:Id>1</a:Id>', namespaces: { a: 'urn:a' }, createdAt: 7 };
    await store.cameraSubscriptions.remember(held);
    expect(await store.cameraSubscriptions.recall()).toEqual(new Map([['cam-1', held]]));
  });

  it('moves a damaged database aside (never deletes it), starts fresh, and raises a box event', async () => {
    writeFileSync(join(t.dir, DB_NAME), 'this is not a database'.repeat(1000));
    store = await openStore(t.dir);
    expect(store.recovery?.movedTo).toMatch(/shouwang\.db\.corrupt-\d{8}T\d{6}Z$/);
    expect(existsSync(store.recovery!.movedTo)).toBe(true);
    const [e] = await store.events.read({ kinds: ['storage_recovered'] });
    expect(e).toMatchObject({ deviceId: '_box', lane: 'alarm' });
    expect((await store.outbox.next(10))[0]?.lane).toBe('alarm');
  });

  it('refuses a database from a newer Shouwang and leaves it untouched', async () => {
    const file = join(t.dir, DB_NAME);
    const db = await Db.open(file);
    await db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    await db.close();
    await expect(openStore(t.dir)).rejects.toThrow(/newer than this Shouwang knows/);
    expect(readdirSync(t.dir).filter((f) => f.includes('corrupt'))).toEqual([]);
  });
});

describe('alarms and commands', () => {
  it('records every workflow step with who and when, and gives two simultaneous 受理 one winner', async () => {
    const clock = new FakeClock();
    store = await openStore(t.dir, {}, clock);
    const a = await store.alarms.open(
      {
        rule: 'door-forced',
        level: 1,
        category: 'public_order',
        title: '3栋1单元门被强行打开',
        deviceId: 'door-3-1',
        grid: 'g1',
        openedAt: clock.now(),
        acceptBy: null,
        closeBy: null,
        evidence: ['e1'],
        snapshots: [],
      },
      'rule:door-forced',
    );
    clock.advance(30_000);
    const both = await Promise.allSettled([store.alarms.act(a.id, 'accept', '张保安'), store.alarms.act(a.id, 'accept', '李保安')]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(String((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/cannot accept an alarm that is accepted/);
    await store.alarms.addEvidence(a.id, ['e2'], 'rule:door-forced');
    await store.alarms.act(a.id, 'resolve', '张保安', '已现场处置');
    const final = await store.alarms.get(a.id);
    expect(final).toMatchObject({ status: 'resolved', count: 2, evidence: ['e1', 'e2'] });
    const h = await store.alarms.history(a.id);
    expect(h.map((x) => [x.action, x.actor])).toEqual([
      ['open', 'rule:door-forced'],
      ['accept', '张保安'],
      ['evidence', 'rule:door-forced'],
      ['resolve', '张保安'],
    ]);
    expect(h[1]!.at - h[0]!.at).toBe(30_000);
    expect((await store.alarms.changedSince(0)).map((x) => x.id)).toEqual([a.id]);
    // every change also went upstream, in the alarm lane, in the order it happened; the refused 受理 did not
    const up = await store.outbox.next(100);
    expect(up.map((e) => [e.lane, e.type, (e.body as { change: { action: string } }).change.action])).toEqual([
      ['alarm', 'alarm.opened', 'open'],
      ['alarm', 'alarm.updated', 'accept'],
      ['alarm', 'alarm.updated', 'evidence'],
      ['alarm', 'alarm.updated', 'resolve'],
    ]);
    expect((up[3]!.body as { alarm: { status: string } }).alarm.status).toBe('resolved');
  });

  it('never reopens a finished command', async () => {
    store = await openStore(t.dir);
    await store.commands.insert({
      id: 'c1',
      deviceId: 'door-1',
      action: 'unlock',
      params: {},
      requestedBy: '王经理',
      reason: '快递',
      alarmId: null,
      createdAt: 1,
      expiresAt: 2,
      status: 'pending',
      outcome: null,
      completedAt: null,
    });
    expect(await store.commands.update('c1', 'expired', 'expired before the device reconnected', 3)).toBe(true);
    expect(await store.commands.update('c1', 'succeeded', 'late ack', 4)).toBe(false);
    expect(await store.commands.get('c1')).toMatchObject({ status: 'expired', completedAt: 3 });
  });
});
