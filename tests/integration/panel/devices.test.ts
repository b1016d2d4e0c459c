import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, end, publish } from '../../helpers/mqtt.ts';
import { Client, eventStream, setupManager, startPanelApp, userWithRole, type PanelApp } from './helpers.ts';

let p: PanelApp;
let manager: Client;
let guard: Client;
let viewer: Client;
let door: MqttClient;

/** An MQTT device that answers every command it gets (and remembers them). */
async function answering(id: string, result: 'ok' | 'failed' = 'ok', got: unknown[] = []): Promise<MqttClient> {
  const c = await connect(p.mqttUrl, { clientId: id, username: id, password: `${id}-demo`, clean: false });
  await new Promise((r) => c.subscribe(`sw/v1/${id}/cmd`, { qos: 1 }, r));
  c.on('message', (_t, payload) => {
    const cmd = JSON.parse(payload.toString());
    got.push(cmd);
    c.publish(`sw/v1/${id}/cmd/ack`, JSON.stringify({ id: cmd.id, result, ...(result === 'failed' ? { detail: 'lock jammed' } : {}) }), { qos: 1 });
  });
  return c;
}

async function answeringDoor(result: 'ok' | 'failed' = 'ok'): Promise<MqttClient> {
  const c = await answering('door-1', result);
  await publish(c, 'sw/v1/door-1/state', JSON.stringify({ door: 'closed', locked: true }), 1, true);
  return c;
}

beforeAll(async () => {
  p = await startPanelApp();
  const m = await setupManager(p);
  manager = m;
  guard = await userWithRole(p, m, 'guard', 'baoan1');
  viewer = await userWithRole(p, m, 'viewer', 'minjing');
  door = await answeringDoor();
});
afterAll(async () => {
  await end(door);
  await p.stop();
});

/** A device's status as the box's device-status component records it (the record uptime is computed from). */
function transition(deviceId: string, online: boolean, at: number) {
  return { deviceId, gbId: null, kind: 'siren', grid: '320602001001-01', online, eventChannel: 'n/a' as const, lastSeen: null, detail: null, at };
}

describe('devices', () => {
  it('lists every device with its state, last seen, last event and the commands it takes', async () => {
    await p.app.county!.push.record([transition('door-1', true, Date.now() - 3600_000)], [false]);
    const r = await guard.get('/api/devices');
    const d = r.body.devices.find((x: { id: string }) => x.id === 'door-1');
    expect(d).toMatchObject({
      name: '1栋1单元门',
      kind: 'access_controller',
      status: 'online',
      commands: ['unlock'],
      place: { building: '1栋' },
      gridName: '一网格',
    });
    expect(d.health.lastSeen).toBeGreaterThan(Date.now() - 10_000);
    expect(d.state).toEqual({ door: 'closed', locked: true });
    expect(d.uptime24h).toBe(1);
    const sos = r.body.devices.find((x: { id: string }) => x.id === 'sos-1');
    expect(sos).toMatchObject({ status: 'offline', commands: [], lastEvent: null }); // never connected
    expect(r.body.devices.find((x: { id: string }) => x.id === 'panel-1').commands).toEqual(['arm', 'disarm']);
  });

  it('computes uptime from the recorded status transitions, leaving out time nobody observed', async () => {
    const now = Date.now();
    // Online from 30 h ago, offline 6 h ago, back 3 h ago; the seconds since this app started are not observed yet.
    const history = [
      transition('siren-1', true, now - 30 * 3600_000),
      transition('siren-1', false, now - 6 * 3600_000),
      transition('siren-1', true, now - 3 * 3600_000),
    ];
    await p.app.county!.push.record(history, [false, false, false]);
    const r = await guard.get('/api/devices/siren-1');
    expect(r.body.device.uptime24h).toBeCloseTo(21 / 24, 3);
    expect(r.body.uptime7d).toBeCloseTo(27 / 30, 3);
  });
});

describe('maintenance', () => {
  it('a manager puts a device into maintenance for a while with a reason (guards may not); the list shows it', async () => {
    expect((await guard.post('/api/devices/sos-1/maintenance', { on: true, reason: '更换电池' })).status).toBe(403);
    expect((await manager.post('/api/devices/sos-1/maintenance', { on: true, reason: 'x' })).status).toBe(400);
    const r = await manager.post('/api/devices/sos-1/maintenance', { on: true, reason: '更换电池', minutes: 60 });
    expect(r.body.maintenance).toMatchObject({ deviceId: 'sos-1', source: 'panel', actor: 'wangjl', reason: '更换电池' });
    expect(r.body.maintenance.until - r.body.maintenance.since).toBe(60 * 60_000);
    const listed = (await viewer.get('/api/devices')).body.devices.find((d: { id: string }) => d.id === 'sos-1');
    expect(listed.maintenance).toMatchObject({ reason: '更换电池' });
    await manager.post('/api/devices/sos-1/maintenance', { on: false, reason: '已完成' });
    expect((await viewer.get('/api/devices')).body.devices.find((d: { id: string }) => d.id === 'sos-1').maintenance).toBeNull();
  });
});

describe('commands from the panel', () => {
  it('unlocks a door only with a confirmation and a reason, through the real broker, and audits who, why and the outcome', async () => {
    expect(await guard.post('/api/devices/door-1/commands', { action: 'unlock', confirm: true })).toMatchObject({ status: 400, body: { error: 'reason' } });
    expect(await guard.post('/api/devices/door-1/commands', { action: 'unlock', reason: '住户忘带门卡' })).toMatchObject({
      status: 400,
      body: { error: 'confirm' },
    });
    expect((await viewer.post('/api/devices/door-1/commands', { action: 'unlock', reason: '测试', confirm: true })).status).toBe(403);
    const r = await guard.post('/api/devices/door-1/commands', { action: 'unlock', reason: '住户忘带门卡，已核实身份', confirm: true });
    expect(r.status).toBe(200);
    expect(r.body.command).toMatchObject({
      deviceId: 'door-1',
      action: 'unlock',
      status: 'succeeded',
      requestedBy: 'baoan1',
      reason: '住户忘带门卡，已核实身份',
      params: { seconds: 5 },
    });
    const audit = (await p.app.store.audit.list({ action: 'command.unlock' })).filter(
      (e) => e.detail && (e.detail as { commandId?: string }).commandId === r.body.command.id,
    );
    expect(audit.map((e) => [e.actor, e.target, e.outcome])).toEqual([
      ['baoan1', 'door-1', 'succeeded'],
      ['baoan1', 'door-1', 'requested'],
    ]);
    expect(audit[1]!.detail).toMatchObject({ reason: '住户忘带门卡，已核实身份' });
  });

  it('reports a failed unlock as failed, and refuses commands a device does not take', async () => {
    await end(door);
    door = await answeringDoor('failed');
    const r = await guard.post('/api/devices/door-1/commands', { action: 'unlock', reason: '巡逻', confirm: true });
    expect(r.body.command).toMatchObject({ status: 'failed', outcome: 'lock jammed' });
    expect(await guard.post('/api/devices/door-1/commands', { action: 'arm', mode: 'away' })).toMatchObject({ status: 400, body: { error: 'not_supported' } });
    expect(await guard.post('/api/devices/panel-1/commands', { action: 'arm' })).toMatchObject({ status: 400, body: { error: 'mode' } });
    await end(door);
    door = await answeringDoor();
  });

  it('arms a panel and turns a siren off, each reaching the device with its parameters', async () => {
    const panelGot: { action: string; params: unknown }[] = [];
    const sirenGot: { action: string; params: unknown }[] = [];
    const panel = await answering('panel-1', 'ok', panelGot);
    const siren = await answering('siren-1', 'ok', sirenGot);
    expect((await guard.post('/api/devices/panel-1/commands', { action: 'arm', mode: 'night', reason: '夜间布防' })).body.command.status).toBe('succeeded');
    expect((await guard.post('/api/devices/panel-1/commands', { action: 'disarm' })).body.command).toMatchObject({
      status: 'succeeded',
      reason: '面板操作 (panel)',
    });
    expect((await guard.post('/api/devices/siren-1/commands', { action: 'siren_off' })).body.command).toMatchObject({ action: 'siren', status: 'succeeded' });
    expect(panelGot.map((c) => [c.action, c.params])).toEqual([
      ['arm', { mode: 'night' }],
      ['disarm', {}],
    ]);
    expect(sirenGot.map((c) => [c.action, c.params])).toEqual([['siren', { on: false }]]);
    const audit = await p.app.store.audit.list({ action: 'command.siren' });
    expect(audit[0]).toMatchObject({ actor: 'baoan1', target: 'siren-1', outcome: 'succeeded' });
    await end(panel);
    await end(siren);
  });

  it('pushes device state changes to open pages', async () => {
    const s = await eventStream(guard);
    await end(door);
    // Gone after the broker notices (the driver debounces offline, the connection state changes at once).
    await s.wait('device', (x) => x.deviceId === 'door-1' && x.reachable === false, 3000);
    door = await answeringDoor();
    await s.wait('device', (x) => x.deviceId === 'door-1' && x.reachable === true, 3000);
    s.close();
  });
});
