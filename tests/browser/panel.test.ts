import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEMO_CONFIG_FILE, loadConfigOrThrow } from '../../config/load.ts';
import { CountyReceiver } from '../../simulators/county-platform/index.ts';
import { cameraSpecsFromSite, startCameras, type CameraFarm } from '../../simulators/onvif-camera/index.ts';
import { App } from '../../gateway/app.ts';
import type { StoredEvent } from '../../gateway/core/events.ts';
import { specsFromSite, startMqttDevices, type SimEstate } from '../../simulators/mqtt-devices/index.ts';
import { connect, end, publish } from '../helpers/mqtt.ts';
import { silentLog, tempDir } from '../helpers/store.ts';
import { launch, planPng, shot, watchErrors } from './browser.ts';
import { seedHistory } from './seed.ts';

/**
 * The panel in a real browser (Debian's chromium through playwright-core)
 * against the whole gateway on the demo estate (锦绣花园): its MQTT devices
 * simulated by honest mqtt.js peers, its 24 cameras by the ONVIF simulator
 * (on free ports), the county by the county simulator. One story, in order:
 * first-run setup, accounts, lockout, a door forced open over MQTT becoming
 * an alarm (the detection rules open it) that is handled to the end, a door
 * unlocked and audited, a guard refused an installer page, the installer's
 * discovery and camera add, walk test, device add, site plan and acceptance.
 */
const PW = 'Jinxiu-2026-secure';
let t: { dir: string; cleanup: () => void };
let app: App;
let base: string;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let errors: string[];
let estate: SimEstate;
let farm: CameraFarm;
let county: CountyReceiver;
let doorB3: MqttClient;
const doorCommands: { action: string; params: unknown }[] = [];

beforeAll(async () => {
  t = tempDir('shouwang-browser-');
  const file = join(t.dir, 'site.yaml');
  // The demo estate's cameras on free ports (plus one nobody configured yet, for discovery), the county on a free port.
  const demo = await loadConfigOrThrow(DEMO_CONFIG_FILE);
  farm = await startCameras({
    cameras: [
      ...cameraSpecsFromSite(demo, { anyPort: true, flavour: 'mixed' }),
      { id: 'sim-new', port: 0, username: 'admin', password: 'New-Cam-2026', name: 'IPC-East-Lane', ptz: true },
    ],
    discovery: { port: 0, bind: '127.0.0.1' },
  });
  county = await new CountyReceiver({ tokens: ['demo-county-token'] }).start();
  const doc = parseDocument(readFileSync(DEMO_CONFIG_FILE, 'utf8'));
  (doc.get('devices') as { items: { get(k: string): unknown; set(k: string, v: unknown): void }[] }).items.forEach((d) => {
    if (d.get('kind') === 'onvif_camera') d.set('port', farm.camera(String(d.get('id'))).port);
  });
  doc.setIn(['upstream', 'county', 'url'], county.url);
  // The story signs in a dozen times a minute from one address.
  doc.setIn(['panel', 'loginAttemptsPerMinute'], 60);
  writeFileSync(file, doc.toString());
  const config = await loadConfigOrThrow(file);
  app = new App({ config, dataDir: join(t.dir, 'data'), log: silentLog, version: 'test', httpPort: 0, brokerPort: 0, configFile: file });
  await app.start();
  base = app.http.url;
  const mqttUrl = `mqtt://127.0.0.1:${app.broker.addresses[0]!.port}`;
  // Every MQTT device but door-b3, which the test drives itself.
  estate = await startMqttDevices({ brokerUrl: mqttUrl, devices: specsFromSite(config).filter((d) => d.id !== 'door-b3'), traffic: 'none', heartbeatMs: 0 });
  // It reconnects like a real device: adding a device restarts the broker, which drops every connection.
  doorB3 = mqtt.connect(mqttUrl, {
    protocolVersion: 4,
    clientId: 'door-b3',
    username: 'door-b3',
    password: 'door-b3-demo',
    clean: false,
    reconnectPeriod: 500,
  });
  doorB3.on('error', () => {}); // refused while the broker restarts: it tries again
  await new Promise((r) => doorB3.once('connect', r));
  await new Promise((r) => doorB3.subscribe('sw/v1/door-b3/cmd', { qos: 1 }, r));
  doorB3.on('message', (_topic, payload) => {
    const cmd = JSON.parse(payload.toString());
    doorCommands.push(cmd);
    doorB3.publish('sw/v1/door-b3/cmd/ack', JSON.stringify({ id: cmd.id, result: 'ok' }), { qos: 1 });
  });
  await publish(doorB3, 'sw/v1/door-b3/status', 'online', 1, true);
  browser = await launch();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  page = await ctx.newPage();
  page.setDefaultTimeout(8000);
  errors = watchErrors(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await end(doorB3).catch(() => {});
  await estate?.stop();
  await app?.stop();
  await farm?.stop();
  await county?.stop();
  t?.cleanup();
});

async function signIn(username: string, password = PW) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('#login-form button[type=submit]');
}

async function signOut() {
  await page.click('#sign-out');
  await page.waitForURL(/\/login/);
}

function storedEvent(match: (e: StoredEvent) => boolean): Promise<StoredEvent> {
  return new Promise((resolve) => {
    const off = app.bus.on('event.stored', (e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

describe('the panel in a browser', { timeout: 30_000 }, () => {
  it('first run: the setup link creates the first account, which creates the others', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/login/);
    await page.waitForSelector('text=首次设置');
    await page.goto(app.setupLink!.url);
    await page.fill('input[name=username]', 'wangjl');
    await page.fill('input[name=displayName]', '王建立');
    await page.fill('input[name=password]', PW);
    await page.click('#setup-form button[type=submit]');
    await page.waitForURL(/\/users$/);
    for (const [username, name, role] of [
      ['baoan', '张保安', 'guard'],
      ['anzhuang', '李安装', 'installer'],
      ['minjing', '赵民警', 'viewer'],
      ['lockme', '钱保安', 'guard'],
    ]) {
      await page.fill('#new-user input[name=username]', username!);
      await page.fill('#new-user input[name=displayName]', name!);
      await page.selectOption('#new-user select[name=role]', role!);
      await page.fill('#new-user input[name=password]', PW);
      await page.click('#new-user button[type=submit]');
      await page.waitForSelector(`#users tr[data-username="${username}"]`);
    }
    await shot(page, 'users');
    expect(await page.locator('#users tbody tr').count()).toBe(5);
    await signOut();
  });

  it('locks an account after five wrong passwords, and says so', async () => {
    for (let i = 0; i < 5; i++) {
      await signIn('lockme', 'not-the-password');
      await page.waitForSelector('#login-message .notice');
    }
    expect(await page.textContent('#login-message')).toMatch(/锁定/);
    await signIn('lockme');
    await page.waitForSelector('#login-message .notice');
    expect(await page.textContent('#login-message')).toMatch(/锁定/);
    await shot(page, 'login-locked', false);
  });

  it('a door forced open over MQTT becomes an alarm on the guard’s board without a reload, with a sound; 受理, 处置, 办结', async () => {
    await signIn('baoan');
    await page.waitForURL(`${base}/`);
    await page.waitForSelector('#alarm-list');
    await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
    const opened = new Promise<{ id: string }>((resolve) => {
      const off = app.bus.on('alarm.changed', (a) => {
        if (a.deviceId === 'door-b3' && a.status === 'new') {
          off();
          resolve(a);
        }
      });
    });
    const sent = Date.now();
    await publish(doorB3, 'sw/v1/door-b3/event', JSON.stringify({ id: 'forced-1', type: 'door', state: 'forced' }));
    const alarm = await opened; // the detection rules open it
    const card = page.locator(`[data-alarm-id="${alarm.id}"]`);
    await card.waitFor({ timeout: 2000 });
    const seenAfterMs = Date.now() - sent;
    expect(seenAfterMs).toBeLessThan(2000);
    expect(await card.textContent()).toContain('门被强行打开');
    expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(Number(await page.getAttribute('body', 'data-sound-count'))).toBeGreaterThanOrEqual(1);

    // 受理 on the board, then 处置 with a note and 办结 on its page.
    await card.locator('button').click();
    await page.waitForSelector(`[data-alarm-id="${alarm.id}"][data-status="accepted"]`);
    await card.click();
    await page.waitForSelector('#alarm-detail h1');
    await page.fill('#action-note', '保安已到现场，门锁被撬');
    await page.click('[data-action=dispatch]');
    await page.waitForSelector('#alarm-status[data-status=dispatched]');
    await page.fill('#action-note', '已通知物业更换门锁');
    await page.click('[data-action=resolve]');
    await page.waitForSelector('#alarm-status[data-status=resolved]');
    const steps = await page
      .locator('#history tbody tr')
      .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-action'), r.children[1]!.textContent, r.children[3]!.textContent]));
    expect(steps[0]).toEqual(['open', 'rule:door-forced', '']);
    expect(steps.filter((x) => x[1] === 'baoan')).toEqual([
      ['accept', 'baoan', ''],
      ['dispatch', 'baoan', '保安已到现场，门锁被撬'],
      ['resolve', 'baoan', '已通知物业更换门锁'],
    ]);
    expect(await page.textContent('#evidence')).toContain('门被强行打开');
  });

  it('unlocks the door from the alarm page with a confirmation and a reason; the audit log shows who, why and the outcome', async () => {
    await page.click('[data-command=unlock]');
    await page.waitForSelector('dialog[open]');
    await page.click('#command-confirm'); // no reason yet: refused by the form
    expect(await page.locator('dialog[open]').count()).toBe(1);
    await page.fill('#command-reason', '住户忘带门卡，已核实身份');
    await page.click('#command-confirm');
    await page.waitForSelector('.command-result[data-status=succeeded]');
    expect(doorCommands.map((c) => [c.action, c.params])).toEqual([['unlock', { seconds: 5 }]]);
    await signOut();
    await signIn('minjing');
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/audit`);
    const row = page.locator('#audit tr[data-action="command.unlock"]').first();
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain('baoan');
    expect(text).toContain('door-b3');
    expect(text).toContain('succeeded');
    expect(await page.locator('#audit tr[data-action="command.unlock"]').nth(1).textContent()).toContain('住户忘带门卡，已核实身份');
    await shot(page, 'audit');
    await signOut();
  });

  it('refuses a guard an installer page on the server (403), not just by hiding the link', async () => {
    await signIn('baoan');
    await page.waitForURL(`${base}/`);
    expect(await page.locator('nav a[href="/installer"]').count()).toBe(0);
    const res = await page.goto(`${base}/installer/walk-test`);
    expect(res!.status()).toBe(403);
    expect(await page.textContent('h1')).toContain('403');
    const api = await page.evaluate(async () => (await fetch('/api/installer/walk-test')).status);
    expect(api).toBe(403);
    await page.goto(`${base}/`);
    await signOut();
  });

  it('installer: discovery finds a camera nobody configured; tested, it shows its snapshot, and is added', async () => {
    await signIn('anzhuang');
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/installer/discovery`);
    await page.fill('#scan-form textarea[name=targets]', `127.0.0.1:${farm.discovery!.port}`);
    await page.click('#scan-start');
    const row = page.locator(`#found tr[data-host="127.0.0.1:${farm.camera('sim-new').port}"]`);
    await row.waitFor();
    await page.waitForSelector('#scan-status:has-text("25")');
    expect(await page.locator(`#found tr[data-host="127.0.0.1:${farm.camera('cam-gate-north-in').port}"]`).textContent()).toContain('cam-gate-north-in');
    await row.locator('button').click();
    await page.fill('#camera-form input[name=password]', 'New-Cam-2026');
    await page.fill('#camera-form input[name=name]', '东门车道（新增）');
    await page.click('#probe-camera');
    await page.waitForSelector('#probe-snapshot');
    expect(await page.textContent('#probe-result')).toContain('测试通过');
    expect(await page.textContent('#probe-device')).toContain('Shouwang Sim');
    await page.click('#add-camera');
    await page.waitForSelector('#add-camera-message .notice.ok');
    expect(app.configManager.current().devices.find((d) => d.name === '东门车道（新增）')).toMatchObject({
      kind: 'onvif_camera',
      port: farm.camera('sim-new').port,
    });
    await shot(page, 'discovery');
  });

  it('installer: walk test turns devices green as their events arrive', async () => {
    await page.goto(`${base}/installer/walk-test`);
    await page.click('#walk-start');
    await page.waitForSelector('#walk [data-device-id="sos-01"][data-passed=false]');
    await estate.device('sos-01').publishEvent({ type: 'sos', state: 'pressed' });
    await estate.device('smoke-garage-1').publishEvent({ type: 'smoke', state: 'alarm' });
    await estate.device('panel-north').publishEvent({ type: 'zone', zone: 1, zoneType: 'perimeter', state: 'alarm' });
    farm.camera('cam-b1-entrance').emit({ type: 'motion', active: true });
    await page.waitForSelector('#walk [data-device-id="sos-01"][data-passed=true]');
    await page.waitForSelector('#walk [data-device-id="panel-north"][data-passed=true]');
    await page.waitForSelector('#walk [data-device-id="cam-b1-entrance"][data-passed=true]');
    expect(await page.textContent('#walk-progress')).toMatch(/^[1-9]\d* \/ 53 /); // 25 cameras and 28 MQTT devices
    await shot(page, 'walk-test');
  });

  it('installer: adds an MQTT device and gets its connection settings with a QR code', async () => {
    await page.goto(`${base}/installer/devices/new`);
    await page.selectOption('#kind', 'sos_button');
    await page.fill('#add-device input[name=name]', '一键报警 9栋1单元101');
    await page.fill('#add-device input[name=building]', '9栋');
    await page.fill('#add-device input[name=household]', '9栋1单元101');
    await page.click('#add-device button[type=submit]');
    await page.waitForSelector('#qr img');
    const settings = JSON.parse((await page.textContent('#settings'))!);
    expect(settings).toMatchObject({ clientId: 'sos-11', username: 'sos-11', topics: { event: 'sw/v1/sos-11/event' } });
    const dev = await connect(`mqtt://${settings.host}:${settings.port}`, {
      clientId: settings.clientId,
      username: settings.username,
      password: settings.password,
    });
    await end(dev);
    await shot(page, 'add-device');
  });

  it('installer: uploads the site plan and places devices on it', async () => {
    await page.goto(`${base}/installer/plan`);
    await page.setInputFiles('#plan-upload', { name: 'plan.png', mimeType: 'image/png', buffer: await planPng(browser) });
    await page.waitForSelector('#plan-image');
    const spots: [string, number, number][] = [
      ['cam-gate-north-in', 0.47, 0.05],
      ['cam-gate-south-in', 0.47, 0.95],
      ['door-b1', 0.16, 0.25],
      ['door-b2', 0.35, 0.25],
      ['door-b3', 0.66, 0.25],
      ['door-b4', 0.85, 0.25],
      ['panel-north', 0.3, 0.48],
      ['sos-01', 0.2, 0.3],
      ['cam-square', 0.53, 0.35],
      ['cam-perim-n-east', 0.75, 0.06],
      ['door-b5', 0.16, 0.72],
    ];
    for (const [id, x, y] of spots) {
      await page.selectOption('#plan-device', id);
      const box = (await page.locator('#plan-image').boundingBox())!;
      await page.mouse.click(box.x + x * box.width, box.y + y * box.height);
      await page.waitForSelector(`#plan .pin[data-device-id="${id}"]`);
    }
    expect(await page.locator('#plan .pin').count()).toBe(spots.length);
  });

  it('installer: makes the acceptance report (with a live upstream test) and it renders for printing', async () => {
    await page.goto(`${base}/installer/acceptance`);
    await page.click('#make-acceptance');
    await page.waitForURL(/\/installer\/acceptance\/[0-9a-f-]{36}$/);
    await page.waitForSelector('#acceptance-report');
    expect(await page.textContent('#acceptance-report h1')).toContain('锦绣花园');
    expect(await page.textContent('#acceptance-installer')).toContain('李安装');
    expect(await page.locator('#acceptance-devices tbody tr').count()).toBe(54);
    expect(await page.textContent('#acceptance-devices tr[data-device-id="sos-01"]')).toContain('✔');
    expect(await page.textContent('#acceptance-upstream')).toContain(new URL(county.url).host);
    await shot(page, 'acceptance');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.top').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'screen' });
    await signOut();
  });

  it(
    'manager pages: board, alarm with its place on the plan, devices, plan, upstream, reports, phone (screenshots for the README)',
    { timeout: 60_000 },
    async () => {
      const grids = app.configManager.current().grids.map((g) => g.code);
      await seedHistory(app.store, grids, ['panel-north', 'door-b1', 'sos-01', 'door-b5', 'cam-gate-north-in', 'panel-south']);
      const now = Date.now();
      const open = (o: Record<string, unknown>) =>
        app.store.alarms.open(
          {
            rule: 'demo',
            level: 2,
            category: 'public_order',
            grid: grids[0],
            acceptBy: now + 15 * 60_000,
            closeBy: now + 240 * 60_000,
            evidence: [],
            snapshots: [],
            ...o,
          } as never,
          'rule:demo',
        );
      const zone = storedEvent((e) => e.deviceId === 'panel-north' && e.kind === 'zone_alarm');
      await estate.device('panel-north').publishEvent({ type: 'zone', zone: 1, zoneType: 'perimeter', state: 'alarm' });
      const zoneEvent = await zone;
      await open({ title: '北围墙东段周界报警', level: 1, deviceId: 'panel-north', grid: grids[2], openedAt: zoneEvent.receivedAt, evidence: [zoneEvent.id] });
      await open({ title: '一键求助 2栋1单元501', level: 1, category: 'help', deviceId: 'sos-03', openedAt: now - 9 * 60_000, acceptBy: now - 4 * 60_000 });
      await open({ title: '地下车库烟感报警', level: 2, category: 'fire', deviceId: 'panel-south', grid: grids[1], openedAt: now - 20 * 60_000 });
      await open({ title: '5栋单元门长时间未关', level: 3, category: 'hazard', deviceId: 'door-b5', grid: grids[1], openedAt: now - 50 * 60_000 });

      await signIn('wangjl');
      await page.waitForURL(`${base}/`);
      await page.waitForSelector('.alarm');
      await shot(page, 'board');
      await page.click('.alarm:has-text("北围墙东段周界报警")');
      await page.waitForSelector('#alarm-detail .plan-mini .alarm-pin');
      await shot(page, 'alarm-detail');
      // The alarm the rules opened for the forced door carries the linked camera's snapshot.
      const forced = (await app.store.alarms.changedSince(0, 500)).find((a) => a.deviceId === 'door-b3' && a.snapshots.length > 0);
      if (forced) {
        await page.goto(`${base}/alarms/${forced.id}`);
        await page.waitForSelector('.thumbs img');
        expect(await page.locator('.thumbs img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
        await shot(page, 'alarm-snapshot');
      }
      await page.goto(`${base}/devices`);
      await page.waitForSelector('.device[data-device-id="door-b3"][data-status=online]');
      await page.waitForSelector('.device[data-device-id="cam-b3-entrance"][data-status=online]');
      await shot(page, 'devices');
      await page.goto(`${base}/plan`);
      await page.waitForSelector('#plan .pin[data-status=online]');
      await shot(page, 'plan');
      await page.goto(`${base}/upstream`);
      await page.waitForSelector('#link-state[data-connected=true]');
      await shot(page, 'upstream');
      await page.goto(`${base}/reports?period=month`);
      await page.waitForSelector('#chart-uptime canvas');
      expect(Number(await page.textContent('#kpi-reported'))).toBeGreaterThan(20);
      await shot(page, 'reports');

      const phone = await ctx.newPage();
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${base}/`);
      await phone.waitForSelector('.alarm');
      await shot(phone, 'board-phone', false);
      await phone.close();
      // English on request.
      await page.click('#lang');
      await page.waitForSelector('text=Reports');
      await page.click('#lang');
      expect(errors).toEqual([]);
    },
  );
});
