import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import type { DeviceConfig } from '../../config/schema.ts';
import { FakeClock } from '../../gateway/core/clock.ts';
import { Ingest } from '../../gateway/ingest.ts';
import { Metrics } from '../../gateway/metrics.ts';
import type { Store } from '../../gateway/store/store.ts';
import { DEMO_CONFIG_FILE } from '../../config/load.ts';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { openStore, sampleEvent, tempDir } from '../helpers/store.ts';

let t: ReturnType<typeof tempDir> | null = null;
let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
  t?.cleanup();
});

function demoDevices(): readonly DeviceConfig[] {
  const r = parseConfig(parse(readFileSync(DEMO_CONFIG_FILE, 'utf8')));
  if (!r.ok) throw new Error('demo config must load');
  return r.config.devices;
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    }),
  );
  return { log, lines };
}

describe('ingest', () => {
  it('enriches events with their grid and forwards only the kinds the policy names, in the same commit', async () => {
    t = tempDir();
    const clock = new FakeClock();
    store = await openStore(t.dir, {}, clock);
    const devices = demoDevices();
    const door = devices.find((d) => d.kind === 'access_controller')!;
    const cam = devices.find((d) => d.kind === 'onvif_camera')!;
    const ingest = new Ingest({ store, devices, forwardKinds: new Set(['access_granted']), clock, log: capture().log, metrics: new Metrics() });
    await ingest.emit(sampleEvent('access_granted', door.id, clock.now()));
    await ingest.emit(sampleEvent('motion', cam.id, clock.now()));
    const events = await store.events.read();
    expect(events.map((e) => [e.kind, e.grid])).toEqual([
      ['access_granted', door.grid],
      ['motion', cam.grid],
    ]);
    const out = await store.outbox.next(10);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      id: events[0]!.id,
      lane: 'record',
      type: 'event',
      body: { kind: 'access_granted', deviceId: door.id, grid: door.grid, place: door.place },
    });
  });

  it('keeps rejected payloads with their device, and logs them once per device per minute', async () => {
    t = tempDir();
    const clock = new FakeClock();
    store = await openStore(t.dir, {}, clock);
    const { log, lines } = capture();
    const metrics = new Metrics();
    const ingest = new Ingest({ store, devices: [], forwardKinds: null, clock, log, metrics });
    for (let i = 0; i < 100; i++)
      ingest.reject({ deviceId: 'panel-1', source: 'sw/v1/panel-1/event', reason: 'zone: expected a number', excerpt: `{"zone":"x${i}"}` });
    ingest.reject({ deviceId: 'door-2', source: 'sw/v1/door-2/event', reason: 'not JSON' });
    clock.advance(61_000);
    ingest.reject({ deviceId: 'panel-1', source: 'sw/v1/panel-1/event', reason: 'zone: expected a number' });
    await store.writer.flush();
    const warned = lines.filter((l) => String(l.msg).startsWith('rejected a device payload'));
    expect(warned.map((l) => [l.deviceId, l.suppressedSinceLast])).toEqual([
      ['panel-1', 0],
      ['door-2', 0],
      ['panel-1', 99],
    ]);
    expect((await store.rejects.recent(1000)).length).toBe(102);
    expect((await store.rejects.recent(1, 'door-2'))[0]).toMatchObject({ reason: 'not JSON', source: 'sw/v1/door-2/event' });
    expect(await metrics.registry.getSingleMetricAsString('shouwang_rejects_total')).toMatch(/device="panel-1"} 101/);
  });
});
