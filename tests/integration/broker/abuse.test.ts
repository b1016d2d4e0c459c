import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../gateway/broker/broker.ts';
import { Credentials } from '../../../gateway/broker/credentials.ts';
import { systemClock } from '../../../gateway/core/clock.ts';
import type { InboundPublish } from '../../../gateway/core/mqtt.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { silentLog } from '../../helpers/store.ts';

let broker: Broker;
let url: string;
let inbound: InboundPublish[];
const clients: MqttClient[] = [];

beforeEach(async () => {
  inbound = [];
  broker = new Broker({
    config: { host: '127.0.0.1', port: 0, maxConnections: 200, connectsPerMinutePerAddress: 2000, maxPayloadBytes: 65536, keepaliveMaxSeconds: 300 },
    credentials: await Credentials.create([
      { principal: { kind: 'device', id: 'panel-1' }, password: 'panel-1-secret-pw', enabled: true },
      { principal: { kind: 'device', id: 'door-1' }, password: 'door-1-secret-pw', enabled: true },
      { principal: { kind: 'device', id: 'door-2' }, password: 'door-2-secret-pw', enabled: true },
    ]),
    clock: systemClock,
    log: silentLog,
    reject: () => {},
    port: 0,
  });
  broker.onInbound(async (m) => void inbound.push(m));
  await broker.start();
  url = `mqtt://127.0.0.1:${broker.addresses[0]!.port}`;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await broker.stop();
});

describe('broker under abuse', () => {
  it('stays up through 500 connection attempts at once, caps them, and a real device still gets its events through', async () => {
    const panel = await connect(url, { clientId: 'panel-1', username: 'panel-1', password: 'panel-1-secret-pw' });
    clients.push(panel);
    const storm = Array.from({ length: 500 }, (_, i) => {
      const c = mqtt.connect(url, { protocolVersion: 4, clientId: `x${i}`, username: `x${i}`, password: 'guess', reconnectPeriod: 0, connectTimeout: 8000 });
      c.on('error', () => {});
      clients.push(c);
      return new Promise<void>((resolve) => {
        c.once('close', () => resolve());
        c.once('connect', () => resolve());
      });
    });
    let maxSeen = 0;
    const sampler = setInterval(() => (maxSeen = Math.max(maxSeen, broker.connectedClients)), 5);
    const sent: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) sent.push(publish(panel, 'sw/v1/panel-1/event', `{"id":"s${i}","type":"heartbeat"}`));
    await Promise.all(sent);
    await Promise.all(storm);
    clearInterval(sampler);
    expect(inbound.filter((m) => m.principal.id === 'panel-1')).toHaveLength(50);
    expect(clients.slice(1).every((c) => !c.connected)).toBe(true); // nobody guessed in
    expect(maxSeen).toBeLessThanOrEqual(200);
    const door = await connect(url, { clientId: 'door-1', username: 'door-1', password: 'door-1-secret-pw' });
    clients.push(door);
    expect(door.connected).toBe(true);
  }, 30_000);

  it('drops a device that stops reading its commands, without stalling the others', async () => {
    const frozen = await connect(url, { clientId: 'door-1', username: 'door-1', password: 'door-1-secret-pw' });
    const healthy = await connect(url, { clientId: 'door-2', username: 'door-2', password: 'door-2-secret-pw' });
    clients.push(frozen, healthy);
    await new Promise((r) => frozen.subscribe('sw/v1/door-1/cmd', { qos: 1 }, r));
    await new Promise((r) => healthy.subscribe('sw/v1/door-2/cmd', { qos: 1 }, r));
    (frozen.stream as unknown as { pause(): void }).pause(); // stops reading from its socket
    const big = Buffer.alloc(60_000, 0x61);
    const floods = Array.from({ length: 300 }, () => broker.publish('sw/v1/door-1/cmd', big, { qos: 1, retain: false }).catch(() => {}));
    // the healthy door keeps getting commands and getting its events through
    let got = 0;
    healthy.on('message', () => got++);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) {
      await broker.publish('sw/v1/door-2/cmd', Buffer.from(`{"id":"c${i}"}`), { qos: 1, retain: false });
      await publish(healthy, 'sw/v1/door-2/event', `{"id":"e${i}","type":"heartbeat"}`);
    }
    while (got < 20 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
    expect(got).toBe(20);
    expect(inbound.filter((m) => m.principal.id === 'door-2')).toHaveLength(20);
    // within the drain timeout (10 s) the frozen one is cut off
    while (broker.connected('door-1') && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100));
    expect(broker.connected('door-1')).toBe(false);
    await Promise.race([Promise.all(floods), new Promise((r) => setTimeout(r, 2000))]);
  }, 30_000);
});

describe('broker logs', () => {
  it('logs a refused login once a minute per user, naming who and why, never the password', async () => {
    const { Writable } = await import('node:stream');
    const { pino } = await import('pino');
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const b = new Broker({
      config: { host: '127.0.0.1', port: 0, maxConnections: 50, connectsPerMinutePerAddress: 1000, maxPayloadBytes: 4096, keepaliveMaxSeconds: 300 },
      credentials: await Credentials.create([{ principal: { kind: 'device', id: 'door-1' }, password: 'door-1-secret-pw', enabled: true }]),
      clock: systemClock,
      log,
      reject: () => {},
      port: 0,
    });
    await b.start();
    try {
      for (let i = 0; i < 5; i++) {
        await expect(
          connect(`mqtt://127.0.0.1:${b.addresses[0]!.port}`, { clientId: 'door-1', username: 'door-1', password: 'hunter2-guess' }),
        ).rejects.toMatchObject({ code: 4 });
      }
    } finally {
      await b.stop();
    }
    const refused = lines.filter((l) => l.includes('MQTT login refused'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/"username":"door-1"/);
    expect(refused[0]).toMatch(/wrong password/);
    expect(lines.join('\n')).not.toContain('hunter2-guess');
  });
});
