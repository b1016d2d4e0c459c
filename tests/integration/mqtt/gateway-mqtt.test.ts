import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smallSite, startApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { tempDir } from '../../helpers/store.ts';

let t: ReturnType<typeof tempDir>;
let app: Awaited<ReturnType<typeof startApp>>;
const clients: MqttClient[] = [];

async function device(id: string, extra = {}) {
  const c = await connect(app.mqttUrl, { clientId: id, username: id, password: `${id}-demo`, clean: false, ...extra });
  clients.push(c);
  return c;
}

const until = async (fn: () => Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
};

beforeEach(async () => {
  t = tempDir();
  app = await startApp(t.dir);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await app.stop();
  t.cleanup();
});

describe('MQTT devices through the gateway', () => {
  it('stores a panel zone alarm before the PUBACK, enriched with its grid, and a resent event only once', async () => {
    const panel = await device('panel-1');
    const body = JSON.stringify({ id: 'p1-000412', type: 'zone', zone: 4, zoneType: 'perimeter', state: 'alarm', ts: Date.now() });
    await publish(panel, 'sw/v1/panel-1/event', body);
    // the PUBACK came back: the event must already be committed
    const [e] = await app.store.events.read({ kinds: ['zone_alarm'] });
    expect(e).toMatchObject({ deviceId: 'panel-1', active: true, grid: '320602001001-01', attrs: { zone: 4, zoneType: 'perimeter' }, clockTrusted: true });
    await publish(panel, 'sw/v1/panel-1/event', body);
    expect(await app.store.events.read({ kinds: ['zone_alarm'] })).toHaveLength(1);
    // Re-delivered with DUP set, as the spec asks of a device that saw no PUBACK: still once.
    await new Promise<void>((resolve, reject) => panel.publish('sw/v1/panel-1/event', body, { qos: 1, dup: true }, (err) => (err ? reject(err) : resolve())));
    expect(await app.store.events.read({ kinds: ['zone_alarm'] })).toHaveLength(1);
  });

  it('keeps a malformed payload in the rejects table with its device, acks it, and still stores the neighbours', async () => {
    const door1 = await device('door-1');
    const door2 = await device('door-2');
    await publish(door1, 'sw/v1/door-1/event', '{"id":"x1","type":"door","state":');
    await publish(door1, 'sw/v1/door-1/event', '{"id":"x2","type":"teleport"}');
    await publish(door2, 'sw/v1/door-2/event', JSON.stringify({ id: 'd2-1', type: 'access', result: 'granted', method: 'card', credential: '04A1B2C3D4' }));
    await app.store.writer.flush();
    await until(async () => (await app.store.rejects.recent(10, 'door-1')).length === 2);
    const rejects = await app.store.rejects.recent(10, 'door-1');
    expect(rejects.map((r) => r.reason).join('\n')).toMatch(/not JSON/);
    expect(rejects.map((r) => r.reason).join('\n')).toMatch(/teleport/);
    const [granted] = await app.store.events.read({ kinds: ['access_granted'] });
    expect(granted).toMatchObject({ deviceId: 'door-2', attrs: { method: 'card' } });
    expect(JSON.stringify(granted)).not.toContain('04A1B2C3D4'); // only a salted hash is kept
  });

  it('runs a command end to end: sent, acknowledged by the device, recorded with who and why, audited twice', async () => {
    const door = await device('door-1');
    await new Promise((r) => door.subscribe('sw/v1/door-1/cmd', { qos: 1 }, r));
    door.on('message', (_topic, payload) => {
      const cmd = JSON.parse(payload.toString()) as { id: string; action: string };
      door.publish('sw/v1/door-1/cmd/ack', JSON.stringify({ id: cmd.id, result: 'ok' }), { qos: 1 });
    });
    const cmd = await app.commands.run({
      deviceId: 'door-1',
      action: 'unlock',
      params: { seconds: 5 },
      requestedBy: '张保安',
      reason: '快递员送件',
      ttlMs: 5000,
    });
    expect(cmd).toMatchObject({ status: 'succeeded', requestedBy: '张保安' });
    expect(await app.store.commands.get(cmd.id)).toMatchObject({ status: 'succeeded', reason: '快递员送件' });
    const audit = await app.store.audit.list({ action: 'command.unlock' });
    expect(audit.map((a) => [a.actor, a.outcome])).toEqual([
      ['张保安', 'succeeded'],
      ['张保安', 'requested'],
    ]);
  });

  it('never runs a command late: an offline door times out, and on reconnect refuses the queued command as expired', async () => {
    // The door has a persistent session subscribed to its command topic, then goes away.
    const first = await device('door-1');
    await new Promise((r) => first.subscribe('sw/v1/door-1/cmd', { qos: 1 }, r));
    first.end(true);
    const cmd = await app.commands.run({ deviceId: 'door-1', action: 'unlock', requestedBy: '李经理', reason: '远程开门', ttlMs: 300 });
    expect(cmd.status).toBe('timed_out');
    // It comes back: the broker delivers the queued command; the device checks expiresAt and refuses.
    const back = await device('door-1');
    const got = await new Promise<{ id: string; expiresAt: number }>((resolve) => back.on('message', (_t, p) => resolve(JSON.parse(p.toString()))));
    expect(got.id).toBe(cmd.id);
    expect(Date.now()).toBeGreaterThan(got.expiresAt);
    await publish(back, 'sw/v1/door-1/cmd/ack', JSON.stringify({ id: got.id, result: 'expired' }));
    expect((await app.store.commands.get(cmd.id))!.status).toBe('timed_out'); // the late answer changes nothing
  });

  it('reports a device offline only after the debounce, and back online when it returns', async () => {
    await app.stop();
    app = await startApp(t.dir, smallSite({ rules: { offlineDebounceSeconds: 1 } }));
    const sos = await device('sos-1', { will: { topic: 'sw/v1/sos-1/status', payload: 'offline', qos: 1, retain: true } });
    // a flap shorter than the debounce is not reported
    sos.stream.destroy();
    await device('sos-1');
    await new Promise((r) => setTimeout(r, 1300));
    const sosEvents = async () => (await app.store.events.read({ kinds: ['device_offline'], deviceIds: ['sos-1'] })).map((e) => e.active);
    expect(await sosEvents()).toEqual([]);
    // a real absence is
    clients.at(-1)!.stream.destroy();
    await until(async () => (await sosEvents()).length === 1, 4000);
    await device('sos-1');
    await until(async () => (await sosEvents()).length === 2, 4000);
    expect(await sosEvents()).toEqual([true, false]);
  });
});
