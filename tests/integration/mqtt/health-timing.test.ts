import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttDriver, SILENCE_LIMIT_MS } from '../../../device-drivers/mqtt/driver.ts';
import { mqttAccounts } from '../../../gateway/broker/accounts.ts';
import { Broker } from '../../../gateway/broker/broker.ts';
import { Credentials } from '../../../gateway/broker/credentials.ts';
import { FakeClock } from '../../../gateway/core/clock.ts';
import { Ingest } from '../../../gateway/ingest.ts';
import { Metrics } from '../../../gateway/metrics.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { smallSite } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { openStore, silentLog, tempDir } from '../../helpers/store.ts';

/** The real broker and driver on a fake clock: silence and offline debounce without waiting minutes. */
let t: ReturnType<typeof tempDir>;
let store: Store;
let broker: Broker;
let driver: MqttDriver;
let clock: FakeClock;
let url: string;
const clients: MqttClient[] = [];

beforeEach(async () => {
  t = tempDir();
  clock = new FakeClock();
  const config = smallSite({ rules: { offlineDebounceSeconds: 60 } });
  store = await openStore(t.dir, {}, clock);
  const ingest = new Ingest({ store, devices: config.devices, forwardKinds: null, clock, log: silentLog, metrics: new Metrics() });
  broker = new Broker({
    config: config.broker,
    credentials: await Credentials.create(mqttAccounts(config)),
    clock,
    log: silentLog,
    reject: (r) => ingest.reject(r),
    port: 0,
  });
  driver = new MqttDriver({
    sink: ingest,
    clock,
    log: silentLog,
    devices: config.devices,
    bridges: [],
    transport: broker,
    credentialSalt: Buffer.alloc(32, 7),
    offlineDebounceSeconds: 60,
  });
  await driver.start();
  await broker.start();
  url = `mqtt://127.0.0.1:${broker.addresses[0]!.port}`;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await driver.stop();
  await broker.stop();
  await store.close();
  t.cleanup();
});

const device = async (id: string) => {
  const c = await connect(url, { clientId: id, username: id, password: `${id}-demo`, clean: false });
  clients.push(c);
  return c;
};
const events = async (kind: 'device_silent' | 'device_offline', id: string) => {
  await store.writer.flush();
  await new Promise((r) => setTimeout(r, 50));
  await store.writer.flush();
  return (await store.events.read({ kinds: [kind], deviceIds: [id] })).map((e) => e.active);
};

describe('device health on a fake clock', () => {
  it('calls a connected panel that stops reporting silent after 5 minutes, and clears it when it speaks', async () => {
    const panel = await device('panel-1');
    clock.advance(SILENCE_LIMIT_MS.alarm_panel! - 1000);
    expect(await events('device_silent', 'panel-1')).toEqual([]);
    clock.advance(2000);
    expect(await events('device_silent', 'panel-1')).toEqual([true]);
    expect(driver.health().find((h) => h.deviceId === 'panel-1')).toMatchObject({ reachable: true, detail: expect.stringMatching(/silent/) });
    await publish(panel, 'sw/v1/panel-1/event', '{"id":"hb-1","type":"heartbeat"}');
    expect(await events('device_silent', 'panel-1')).toEqual([true, false]);
  });

  it('counts silence from the last message, not the first: a panel that reports now and then never goes silent', async () => {
    const panel = await device('panel-1');
    clock.advance(4 * 60_000);
    await publish(panel, 'sw/v1/panel-1/event', '{"id":"hb-1","type":"heartbeat"}');
    clock.advance(2 * 60_000); // 6 minutes after connecting, 2 after its last message
    expect(await events('device_silent', 'panel-1')).toEqual([]);
    await publish(panel, 'sw/v1/panel-1/event', '{"id":"hb-2","type":"heartbeat"}');
    clock.advance(SILENCE_LIMIT_MS.alarm_panel! - 1000);
    expect(await events('device_silent', 'panel-1')).toEqual([]);
    clock.advance(2000);
    expect(await events('device_silent', 'panel-1')).toEqual([true]);
  });

  it('reports devices that never connect after the debounce, and a flap within it not at all', async () => {
    const door = await device('door-1');
    door.stream.destroy(); // gone...
    await new Promise((r) => setTimeout(r, 100));
    clock.advance(30_000);
    await device('door-1'); // ...and back within the debounce
    clock.advance(60_000);
    expect(await events('device_offline', 'door-1')).toEqual([]);
    // door-2 and sos-1 never connected since start
    expect(await events('device_offline', 'door-2')).toEqual([true]);
    expect(await events('device_offline', 'sos-1')).toEqual([true]);
    await device('door-2');
    expect(await events('device_offline', 'door-2')).toEqual([true, false]);
  });
});
