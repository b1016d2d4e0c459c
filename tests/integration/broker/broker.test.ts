import { connect as netConnect } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../gateway/broker/broker.ts';
import { Credentials } from '../../../gateway/broker/credentials.ts';
import { systemClock } from '../../../gateway/core/clock.ts';
import type { Reject } from '../../../gateway/core/driver.ts';
import type { InboundPublish } from '../../../gateway/core/mqtt.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { silentLog } from '../../helpers/store.ts';

let broker: Broker;
let url: string;
let rejects: Reject[];
let inbound: InboundPublish[];
const clients: MqttClient[] = [];

async function start(over: Partial<ConstructorParameters<typeof Broker>[0]['config']> = {}) {
  const credentials = await Credentials.create([
    { principal: { kind: 'device', id: 'panel-1' }, password: 'panel-1-secret-pw', enabled: true },
    { principal: { kind: 'device', id: 'door-1' }, password: 'door-1-secret-pw', enabled: true },
    { principal: { kind: 'device', id: 'old-sensor' }, password: 'old-sensor-secret', enabled: false },
    { principal: { kind: 'bridge', id: 'z2m' }, password: 'z2m-bridge-secret', enabled: true, bridgeBase: 'zigbee2mqtt' },
  ]);
  rejects = [];
  inbound = [];
  broker = new Broker({
    config: { host: '127.0.0.1', port: 0, maxConnections: 50, connectsPerMinutePerAddress: 1000, maxPayloadBytes: 4096, keepaliveMaxSeconds: 300, ...over },
    credentials,
    clock: systemClock,
    log: silentLog,
    reject: (r) => rejects.push(r),
    port: 0,
  });
  broker.onInbound(async (m) => void inbound.push(m));
  await broker.start();
  url = `mqtt://127.0.0.1:${broker.addresses[0]!.port}`;
}

const dev = async (id: string, password = `${id}-secret-pw`, extra = {}) => {
  const c = await connect(url, { clientId: id, username: id, password, clean: false, ...extra });
  clients.push(c);
  return c;
};

beforeEach(() => start());
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await broker.stop();
});

describe('broker: who may connect', () => {
  it('accepts a device with its own credentials and refuses wrong, unknown, disabled and mismatched ones with the right CONNACK code', async () => {
    await dev('panel-1');
    await expect(dev('panel-1', 'wrong-password')).rejects.toMatchObject({ code: 4 });
    await expect(dev('ghost', 'whatever-pw')).rejects.toMatchObject({ code: 5 });
    await expect(dev('old-sensor', 'old-sensor-secret')).rejects.toMatchObject({ code: 5 });
    await expect(connect(url, { clientId: 'panel-1-x', username: 'panel-1', password: 'panel-1-secret-pw' })).rejects.toMatchObject({ code: 2 });
    expect(broker.connected('panel-1')).toBe(true);
  });

  it('rate-limits connects from one address', async () => {
    await broker.stop();
    await start({ connectsPerMinutePerAddress: 3 });
    for (let i = 0; i < 3; i++) (await dev('door-1')).end(true);
    await expect(dev('door-1')).rejects.toThrow();
  });

  it('caps connections', async () => {
    await broker.stop();
    await start({ maxConnections: 1 });
    await dev('panel-1');
    await expect(dev('door-1')).rejects.toThrow();
  });
});

describe('broker: what a device may publish and subscribe', () => {
  it('hands its own events to the inbound handler and PUBACKs only after the handler resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    broker.onInbound(async (m) => {
      await gate;
      inbound.push(m);
    });
    const c = await dev('panel-1');
    let acked = false;
    const p = publish(c, 'sw/v1/panel-1/event', '{"id":"1","type":"heartbeat"}').then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(acked).toBe(false);
    release();
    await p;
    expect(inbound).toMatchObject([{ principal: { kind: 'device', id: 'panel-1' }, topic: 'sw/v1/panel-1/event', qos: 1, dup: false }]);
    // A device that re-delivers sets DUP (MQTT 3.1.1 §3.3.1.1; mqtt.js only when told to): the store looks those up first.
    await new Promise<void>((resolve, reject) =>
      c.publish('sw/v1/panel-1/event', '{"id":"1","type":"heartbeat"}', { qos: 1, dup: true }, (err) => (err ? reject(err) : resolve())),
    );
    expect(inbound.map((m) => m.dup)).toEqual([false, true]);
  });

  it('does not PUBACK when the handler fails: the connection drops and the device resends the same message', async () => {
    let fail = true;
    broker.onInbound(async (m) => {
      if (fail) {
        fail = false;
        throw new Error('SQLITE_FULL: database or disk is full');
      }
      inbound.push(m);
    });
    const c = await connect(url, { clientId: 'door-1', username: 'door-1', password: 'door-1-secret-pw', clean: false, reconnectPeriod: 100 });
    clients.push(c);
    await publish(c, 'sw/v1/door-1/event', '{"id":"e-77","type":"door","state":"forced"}');
    expect(inbound.map((m) => m.payload.toString())).toEqual(['{"id":"e-77","type":"door","state":"forced"}']);
  });

  it('refuses a publish under another device’s prefix, records it against the offender and closes its connection', async () => {
    const c = await dev('door-1');
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('sw/v1/panel-1/event', '{"id":"x","type":"zone"}', { qos: 1 });
    await closed;
    expect(inbound).toEqual([]);
    expect(rejects).toMatchObject([{ deviceId: 'door-1', source: 'sw/v1/panel-1/event' }]);
  });

  it('lets a device subscribe only to its own command topic ($SYS and others get SUBACK 128)', async () => {
    const c = await dev('door-1');
    // mqtt.js reports a SUBACK of 128 (refused) as an error; the connection stays up.
    const sub = (topic: string) => new Promise<number>((resolve) => c.subscribe(topic, { qos: 1 }, (err, granted) => resolve(err ? 128 : granted![0]!.qos)));
    expect(await sub('sw/v1/door-1/cmd')).toBe(1);
    expect(await sub('sw/v1/panel-1/cmd')).toBe(128);
    expect(await sub('$SYS/#')).toBe(128);
    expect(await sub('#')).toBe(128);
    expect(c.connected).toBe(true);
    expect(rejects.map((r) => r.source)).toEqual(['sw/v1/panel-1/cmd', '$SYS/#', '#']);
  });

  it('delivers a box command to the device that subscribed, and to no one else', async () => {
    const door = await dev('door-1');
    await new Promise((r) => door.subscribe('sw/v1/door-1/cmd', { qos: 1 }, r));
    const got = new Promise<string>((resolve) => door.on('message', (_t, p) => resolve(p.toString())));
    await broker.publish('sw/v1/door-1/cmd', Buffer.from('{"id":"c1","action":"unlock"}'), { qos: 1, retain: false });
    expect(await got).toBe('{"id":"c1","action":"unlock"}');
  });

  it('lets a bridge publish only under its base topic', async () => {
    const z = await connect(url, { clientId: 'z2m', username: 'z2m', password: 'z2m-bridge-secret' });
    clients.push(z);
    await publish(z, 'zigbee2mqtt/hall-smoke', '{"smoke":false}');
    expect(inbound.map((m) => [m.principal.kind, m.topic])).toEqual([['bridge', 'zigbee2mqtt/hall-smoke']]);
    const closed = new Promise<void>((r) => z.once('close', () => r()));
    z.publish('sw/v1/door-1/event', '{}', { qos: 1 });
    await closed;
    expect(rejects.at(-1)).toMatchObject({ deviceId: 'z2m' });
  });
});

describe('broker: abuse', () => {
  it('closes a connection that announces a packet over the size limit before buffering it', async () => {
    const c = await dev('door-1');
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('sw/v1/door-1/event', Buffer.alloc(10_000, 0x41), { qos: 1 });
    await closed;
    expect(inbound).toEqual([]);
    expect(rejects.at(-1)?.reason).toMatch(/exceeds the limit of 5120/);
    // the neighbours are not affected
    const ok = await dev('panel-1');
    await publish(ok, 'sw/v1/panel-1/event', '{"id":"2","type":"heartbeat"}');
    expect(inbound).toHaveLength(1);
  });

  it('survives a raw socket that sends garbage', async () => {
    const s = netConnect(broker.addresses[0]!.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await new Promise((r) => s.once('close', r));
    const ok = await dev('panel-1');
    await publish(ok, 'sw/v1/panel-1/event', '{"id":"3","type":"heartbeat"}');
    expect(inbound).toHaveLength(1);
  });
});
