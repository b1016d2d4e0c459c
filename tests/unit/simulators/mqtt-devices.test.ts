import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_CONFIG_FILE, loadConfigFile } from '../../../config/load.ts';
import {
  badMessage,
  CONTRACT_PAYLOAD_LIMIT,
  doorRate,
  localHour,
  parseDuration,
  parseScenario,
  runScenario,
  specsFromSite,
  startMqttDevices,
  type SimDeviceSpec,
  type SimEstate,
  type StartMqttDevicesOptions,
} from '../../../simulators/mqtt-devices/index.ts';
import { startTestBroker, type SeenPublish, type TestBroker } from './broker.ts';

const SPECS: SimDeviceSpec[] = [
  { id: 'panel-1', kind: 'alarm_panel', password: 'panel-1-pw', zones: [{ number: 4, type: 'perimeter' }] },
  { id: 'door-1', kind: 'access_controller', password: 'door-1-pw' },
  { id: 'sos-1', kind: 'sos_button', password: 'sos-1-pw' },
  { id: 'siren-1', kind: 'siren', password: 'siren-1-pw', maxDurationSeconds: 60 },
];
const PASSWORDS = Object.fromEntries(SPECS.map((s) => [s.id, s.password]));

let broker: TestBroker | undefined;
let estate: SimEstate | undefined;

afterEach(async () => {
  await estate?.stop();
  await broker?.close();
  estate = undefined;
  broker = undefined;
});

async function setup(extra: Partial<StartMqttDevicesOptions> = {}): Promise<{ b: TestBroker; e: SimEstate }> {
  broker = await startTestBroker({ passwords: PASSWORDS });
  estate = await startMqttDevices({ brokerUrl: broker.url, devices: SPECS, heartbeatMs: 0, runTag: '', ...extra });
  return { b: broker, e: estate };
}

const json = (p: SeenPublish) => JSON.parse(p.payload) as Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('connecting', () => {
  it('each device connects with its own credentials, then publishes online and its retained state', async () => {
    const { b } = await setup();
    expect(b.connects.map((c) => c.clientId).sort()).toEqual(SPECS.map((s) => s.id).sort());
    for (const c of b.connects) {
      expect(c).toMatchObject({
        username: c.clientId,
        password: PASSWORDS[c.clientId],
        keepalive: 30,
        clean: false,
        protocolVersion: 4,
        will: { topic: `sw/v1/${c.clientId}/status`, payload: 'offline', qos: 1, retain: true },
      });
    }
    for (const s of SPECS) {
      const online = b.published.find((p) => p.topic === `sw/v1/${s.id}/status` && p.clientId === s.id);
      expect(online).toMatchObject({ payload: 'online', qos: 1, retain: true });
      const state = b.published.find((p) => p.topic === `sw/v1/${s.id}/state`);
      expect(state).toMatchObject({ qos: 1, retain: true });
    }
    expect(json(b.published.find((p) => p.topic === 'sw/v1/panel-1/state')!)).toEqual({ armed: 'disarmed', zonesOpen: [] });
    expect(json(b.published.find((p) => p.topic === 'sw/v1/door-1/state')!)).toEqual({ door: 'closed', locked: true });
  });

  it('a wrong password is refused and startMqttDevices says so', async () => {
    broker = await startTestBroker({ passwords: PASSWORDS });
    const bad = [{ ...SPECS[0]!, password: 'wrong' }];
    await expect(startMqttDevices({ brokerUrl: broker.url, devices: bad, heartbeatMs: 0, connectTimeoutMs: 3000 })).rejects.toThrow(
      /panel-1: .*Bad username or password/,
    );
  });
});

describe('events', () => {
  it('publishEvent is PUBACKed, arrives on the device event topic with a unique id and ts', async () => {
    const { b, e } = await setup();
    const door = e.device('door-1');
    const ids = [
      await door.publishEvent({ type: 'access', result: 'granted', method: 'card', credential: '04A1B2C3' }),
      await door.publishEvent({ type: 'door', state: 'forced' }),
      await e.device('panel-1').publishEvent({ type: 'zone', zone: 4, zoneType: 'perimeter', state: 'alarm' }),
    ];
    expect(ids.slice(0, 2)).toEqual(['door-1-000001', 'door-1-000002']);
    expect(ids[2]).toBe('panel-1-000001');
    const events = b.published.filter((p) => p.topic.endsWith('/event'));
    expect(events.map((p) => p.topic)).toEqual(['sw/v1/door-1/event', 'sw/v1/door-1/event', 'sw/v1/panel-1/event']);
    expect(events.every((p) => p.qos === 1 && !p.retain)).toBe(true);
    expect(events.map((p) => json(p).id)).toEqual(ids);
    expect(json(events[1]!)).toMatchObject({ type: 'door', state: 'forced' });
    expect(typeof json(events[0]!).ts).toBe('number');
    expect(e.sentEvents()).toMatchObject({ 'door-1': ids.slice(0, 2), 'panel-1': [ids[2]], 'sos-1': [] });
    // a zone alarm is reflected in the panel's retained state
    const state = await b.waitFor((p) => p.topic === 'sw/v1/panel-1/state' && json(p).zonesOpen !== undefined && (json(p).zonesOpen as number[]).includes(4));
    expect(state.retain).toBe(true);
  });

  it('the default run tag keeps ids unique across runs; a chosen id can be resent', async () => {
    const { e } = await setup({ runTag: undefined });
    const id = await e.device('sos-1').publishEvent({ type: 'sos' });
    expect(id).toMatch(/^sos-1-[0-9a-z]+-000001$/);
    expect(await e.device('sos-1').publishEvent({ type: 'sos' }, { id })).toBe(id);
  });

  it('heartbeats come at the configured period and stop while silent', async () => {
    const { b, e } = await setup({ heartbeatMs: 100 });
    await sleep(450);
    const hb = () => b.published.filter((p) => p.topic === 'sw/v1/sos-1/event' && json(p).type === 'heartbeat').length;
    expect(hb()).toBeGreaterThanOrEqual(2);
    e.device('sos-1').goSilent(true);
    await sleep(50);
    const before = hb();
    await sleep(400);
    expect(hb()).toBe(before);
    expect(e.device('sos-1').connected).toBe(true);
    expect(e.sentEvents()['sos-1']).toEqual([]);
    expect(e.sentEvents({ heartbeats: true })['sos-1']!.length).toBeGreaterThanOrEqual(2);
  });
});

describe('commands', () => {
  const cmd = (id: string, action: string, params: Record<string, unknown>, expiresIn = 30_000) =>
    JSON.stringify({ id, action, params, issuedAt: Date.now(), expiresAt: Date.now() + expiresIn });
  const ackOf = (b: TestBroker, device: string, id: string) => b.waitFor((p) => p.topic === `sw/v1/${device}/cmd/ack` && json(p).id === id);

  it('unlock: ack ok, door opened, then closed after the given seconds', async () => {
    const { b, e } = await setup();
    await b.publish('sw/v1/door-1/cmd', cmd('c-1', 'unlock', { seconds: 1 }));
    expect(json(await ackOf(b, 'door-1', 'c-1'))).toEqual({ id: 'c-1', result: 'ok' });
    const opened = await b.waitFor((p) => p.topic === 'sw/v1/door-1/event' && json(p).state === 'opened');
    const closed = await b.waitFor((p) => p.topic === 'sw/v1/door-1/event' && json(p).state === 'closed', 3000);
    expect(closed.at - opened.at).toBeGreaterThanOrEqual(900);
    expect(closed.at - opened.at).toBeLessThan(2000);
    expect(e.device('door-1').state).toEqual({ door: 'closed', locked: true });
    expect(e.device('door-1').commands).toMatchObject([{ id: 'c-1', action: 'unlock', params: { seconds: 1 }, answer: { result: 'ok' } }]);
  });

  it('an expired command is answered expired and not executed', async () => {
    const { b, e } = await setup();
    await b.publish('sw/v1/door-1/cmd', cmd('c-old', 'unlock', { seconds: 1 }, -1000));
    expect(json(await ackOf(b, 'door-1', 'c-old'))).toEqual({ id: 'c-old', result: 'expired' });
    await sleep(200);
    expect(b.published.filter((p) => p.topic === 'sw/v1/door-1/event')).toEqual([]);
    expect(e.device('door-1').state).toEqual({ door: 'closed', locked: true });
  });

  it('an unknown action or bad parameters are rejected', async () => {
    const { b } = await setup();
    await b.publish('sw/v1/door-1/cmd', cmd('c-2', 'self_destruct', {}));
    expect(json(await ackOf(b, 'door-1', 'c-2'))).toMatchObject({ id: 'c-2', result: 'rejected' });
    await b.publish('sw/v1/door-1/cmd', cmd('c-3', 'unlock', { seconds: 600 }));
    expect(json(await ackOf(b, 'door-1', 'c-3'))).toMatchObject({ id: 'c-3', result: 'rejected' });
    await b.publish('sw/v1/siren-1/cmd', cmd('c-4', 'arm', { mode: 'away' }));
    expect(json(await ackOf(b, 'siren-1', 'c-4'))).toMatchObject({ id: 'c-4', result: 'rejected' });
  });

  it('arm and disarm change the panel state and republish it; siren sets its state', async () => {
    const { b, e } = await setup();
    await b.publish('sw/v1/panel-1/cmd', cmd('a-1', 'arm', { mode: 'night' }));
    expect(json(await ackOf(b, 'panel-1', 'a-1')).result).toBe('ok');
    await b.waitFor((p) => p.topic === 'sw/v1/panel-1/state' && json(p).armed === 'night');
    await b.waitFor((p) => p.topic === 'sw/v1/panel-1/event' && json(p).type === 'armed' && json(p).mode === 'night');
    const mark = b.published.length;
    await b.publish('sw/v1/panel-1/cmd', cmd('a-2', 'disarm', {}));
    await b.waitFor((p) => p.topic === 'sw/v1/panel-1/state' && json(p).armed === 'disarmed', 3000, mark);
    await b.waitFor((p) => p.topic === 'sw/v1/panel-1/event' && json(p).type === 'disarmed', 3000, mark);
    expect(e.device('panel-1').state.armed).toBe('disarmed');
    await b.publish('sw/v1/siren-1/cmd', cmd('s-1', 'siren', { on: true, seconds: 30 }));
    await b.waitFor((p) => p.topic === 'sw/v1/siren-1/state' && json(p).sounding === true);
  });

  it('a device in ignore mode does not answer; in fail mode answers failed', async () => {
    const { b, e } = await setup();
    e.device('door-1').setCommandMode('ignore');
    await b.publish('sw/v1/door-1/cmd', cmd('i-1', 'unlock', {}));
    await sleep(200);
    expect(b.published.some((p) => p.topic === 'sw/v1/door-1/cmd/ack')).toBe(false);
    expect(e.device('door-1').commands[0]).toMatchObject({ id: 'i-1', answer: null });
    e.device('door-1').setCommandMode('fail');
    await b.publish('sw/v1/door-1/cmd', cmd('f-1', 'unlock', {}));
    expect(json(await ackOf(b, 'door-1', 'f-1'))).toMatchObject({ result: 'failed', detail: 'lock jammed' });
  });
});

describe('connection faults', () => {
  it('an unclean disconnect makes the broker deliver the offline will; reconnect brings it back online', async () => {
    const { b, e } = await setup();
    const sos = e.device('sos-1');
    await sos.disconnectUncleanly();
    const will = await b.waitFor((p) => p.topic === 'sw/v1/sos-1/status' && p.payload === 'offline');
    // the device itself never published `offline` here: this is the broker delivering the will
    expect(will).toMatchObject({ retain: true, qos: 1 });
    await sleep(300);
    expect(sos.connected).toBe(false); // stays down until asked
    const mark = b.published.length;
    await sos.reconnect();
    expect(b.published.slice(mark).some((p) => p.topic === 'sw/v1/sos-1/status' && p.payload === 'online')).toBe(true);
    expect(await sos.publishEvent({ type: 'sos' })).toBe('sos-1-000001');
  });

  it('events published while down are queued and delivered after reconnect', async () => {
    const { b, e } = await setup();
    const door = e.device('door-1');
    await door.disconnectUncleanly();
    const p = door.publishEvent({ type: 'door', state: 'forced' });
    await sleep(100);
    await door.reconnect();
    const id = await p;
    await b.waitFor((x) => x.topic === 'sw/v1/door-1/event' && json(x).id === id);
  });

  it('a command queued by the broker while the device was down (clean: false) is answered after reconnect', async () => {
    const { b, e } = await setup();
    const door = e.device('door-1');
    await door.disconnectUncleanly();
    const now = Date.now();
    await b.publish('sw/v1/door-1/cmd', JSON.stringify({ id: 'q-1', action: 'unlock', params: { seconds: 1 }, issuedAt: now, expiresAt: now + 30_000 }));
    await sleep(100);
    expect(door.commands).toHaveLength(0);
    await door.reconnect();
    const ack = await b.waitFor((p) => p.topic === 'sw/v1/door-1/cmd/ack');
    expect(json(ack)).toEqual({ id: 'q-1', result: 'ok' });
  });

  it('a clean stop publishes offline and disconnects without the will', async () => {
    const { b, e } = await setup();
    await e.stop();
    estate = undefined;
    const offline = b.published.filter((p) => p.topic === 'sw/v1/panel-1/status' && p.payload === 'offline');
    expect(offline).toHaveLength(1);
    expect(offline[0]!.clientId).toBe('panel-1');
  });

  it('bad payloads: malformed, wrong shape, oversized, foreign topic', async () => {
    const { b, e } = await setup();
    const door = e.device('door-1');
    for (const [i, kind] of (['not-json', 'not-object', 'wrong-shape', 'oversized', 'foreign-topic'] as const).entries()) {
      const m = badMessage(door, kind, i, 'panel-1');
      await door.publishRaw(m.topic, m.payload, { qos: m.qos });
    }
    await b.waitFor((p) => p.topic === 'sw/v1/panel-1/event' && p.clientId === 'door-1');
    const own = b.published.filter((p) => p.topic === 'sw/v1/door-1/event');
    expect(own).toHaveLength(4);
    expect(() => JSON.parse(own[0]!.payload)).toThrow();
    expect(Array.isArray(JSON.parse(own[1]!.payload))).toBe(true);
    expect(own[3]!.payload.length).toBeGreaterThan(CONTRACT_PAYLOAD_LIMIT);
  });
});

describe('scenarios', () => {
  it('fires each step at its time after the start', async () => {
    const { b, e } = await setup();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-scenario-'));
    const file = path.join(dir, 'scenario.yaml');
    await fs.writeFile(
      file,
      [
        '- { at: 100ms, device: door-1, event: { type: door, state: forced } }',
        '- { at: 300ms, device: panel-1, event: { type: zone, zone: 4, zoneType: perimeter, state: alarm } }',
        '- { at: 400ms, device: sos-1, action: disconnect }',
        '- { at: 600ms, device: sos-1, action: reconnect }',
        '- { at: 700ms, device: door-1, action: badPayload, kind: not-json }',
        '- { at: 800ms, device: siren-1, action: flood, count: 20 }',
      ].join('\n'),
    );
    const start = performance.now();
    const report = await runScenario(e, file);
    await fs.rm(dir, { recursive: true });
    expect(report.steps.map((s) => s.ok)).toEqual([true, true, true, true, true, true]);
    for (const s of report.steps) {
      expect(s.firedAtMs).toBeGreaterThanOrEqual(s.atMs - 5);
      expect(s.firedAtMs).toBeLessThan(s.atMs + 150);
    }
    const at = (pred: (p: SeenPublish) => boolean) => b.published.find(pred)!.at - start;
    const forced = at((p) => p.topic === 'sw/v1/door-1/event' && json(p).state === 'forced');
    const zone = at((p) => p.topic === 'sw/v1/panel-1/event' && json(p).type === 'zone');
    const will = at((p) => p.topic === 'sw/v1/sos-1/status' && p.payload === 'offline');
    expect(forced).toBeGreaterThanOrEqual(95);
    expect(forced).toBeLessThan(300);
    expect(zone).toBeGreaterThanOrEqual(295);
    expect(zone).toBeLessThan(500);
    expect(will).toBeGreaterThanOrEqual(395);
    expect(will).toBeLessThan(600);
    expect(report.steps[0]!.eventId).toBe('door-1-000001');
    expect(b.published.filter((p) => p.topic === 'sw/v1/siren-1/event')).toHaveLength(20);
  });

  it('refuses unknown devices and malformed steps', async () => {
    const { e } = await setup();
    await expect(runScenario(e, [{ at: '1s', device: 'nobody', event: { type: 'sos' } }])).rejects.toThrow(/unknown device nobody/);
    expect(() => parseScenario([{ at: 'soon', device: 'sos-1', event: { type: 'sos' } }])).toThrow(/at/);
    expect(() => parseScenario([{ at: '1s', device: 'sos-1' }])).toThrow(/event` or `action/);
    expect(parseScenario({ name: 'x', steps: [{ at: 2, device: 'a', action: 'silent' }] }).steps[0]).toMatchObject({ atMs: 2000, action: 'silent' });
  });
});

describe('traffic', () => {
  it('eventsPerSecond produces roughly that rate', async () => {
    const { b, e } = await setup();
    const events = () => b.published.filter((p) => p.topic.endsWith('/event')).length;
    e.setTraffic({ eventsPerSecond: 50 });
    await sleep(200);
    const from = events();
    await sleep(1000);
    const n = events() - from;
    e.setTraffic('none');
    expect(n).toBeGreaterThanOrEqual(30);
    expect(n).toBeLessThanOrEqual(75);
    // spread over the devices
    const by = new Set(b.published.filter((p) => p.topic.endsWith('/event')).map((p) => p.clientId));
    expect(by.size).toBe(SPECS.length);
  });

  it('rush hours in the site time zone', () => {
    // 2026-01-15 00:30 UTC = 08:30 in Shanghai
    expect(localHour(Date.UTC(2026, 0, 15, 0, 30), 'Asia/Shanghai')).toBeCloseTo(8.5);
    expect(doorRate(8)).toBeGreaterThan(doorRate(3) * 10);
    expect(doorRate(18)).toBeGreaterThan(doorRate(14));
  });

  it('durations', () => {
    expect(parseDuration('100ms')).toBe(100);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration(3)).toBe(3000);
    expect(() => parseDuration('5 parsecs')).toThrow();
  });
});

describe('specsFromSite', () => {
  it('turns the demo estate into 28 MQTT device specs with their demo passwords', async () => {
    const r = await loadConfigFile(DEMO_CONFIG_FILE, { env: {} });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const specs = specsFromSite(r.config);
    expect(specs).toHaveLength(28);
    for (const s of specs) expect(s.password).toBe(`${s.id}-demo`);
    expect(specs.find((s) => s.id === 'panel-north')?.zones).toHaveLength(8);
    expect(specs.find((s) => s.id === 'speaker-square')?.clips).toEqual([{ id: 'no-climbing' }, { id: 'evacuate' }]);
    expect(specs.some((s) => (s.kind as string) === 'onvif_camera')).toBe(false);
  });
});
