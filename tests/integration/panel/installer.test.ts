import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { deflateSync } from 'node:zlib';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, end, publish } from '../../helpers/mqtt.ts';
import { Client, eventStream, setupManager, smallSiteYaml, startPanelApp, userWithRole, type PanelApp } from './helpers.ts';

let p: PanelApp;
let installer: Client;
let guard: Client;
let county: Server;
let countyHits = 0;

function png(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    Buffer.from('IHDR'),
    ihdr,
    Buffer.alloc(4),
    deflateSync(Buffer.alloc(0)),
  ]);
}

const COUNTY_READ = 'county-read-token-0123456789';

beforeAll(async () => {
  county = createServer((_req, res) => {
    countyHits++;
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => county.listen(0, '127.0.0.1', r));
  const port = (county.address() as { port: number }).port;
  p = await startPanelApp({
    site: smallSiteYaml({
      upstream: { county: { url: `http://127.0.0.1:${port}/api/v1/ingest`, auth: { type: 'bearer', token: 'demo-county-token' } } },
      countyApi: { enabled: true, tokens: [{ name: 'county', token: COUNTY_READ, scopes: ['read'] }] },
    }),
  });
  const m = await setupManager(p);
  installer = await userWithRole(p, m, 'installer', 'anzhuang');
  guard = await userWithRole(p, m, 'guard', 'baoan1');
});
afterAll(async () => {
  await p.stop();
  county.close();
});

describe('adding an MQTT device from the panel', () => {
  it('writes it to the site file with only a password hash, restarts the MQTT side, and the device connects with the shown settings', async () => {
    const r = await installer.post('/api/installer/devices', {
      kind: 'access_controller',
      name: '2栋1单元门',
      grid: '320602001001-01',
      place: { building: '2栋', unit: '1单元', point: 'entrance' },
      door: '2栋1单元门',
    });
    expect(r.status).toBe(201);
    const s = r.body.connection;
    expect(s).toMatchObject({ host: '127.0.0.1', clientId: 'door-01', username: 'door-01', topics: { event: 'sw/v1/door-01/event' } });
    expect(s.password).toMatch(/^[a-zA-Z2-9]{20}$/);
    expect(r.body.qrSvg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(r.body.applied).toMatchObject({ ok: true, restarted: ['devices'] });

    const file = readFileSync(p.file, 'utf8');
    expect(file.startsWith('# test site\n')).toBe(true); // comments kept
    expect(file).not.toContain(s.password);
    const entry = parse(file).devices.find((d: { id: string }) => d.id === 'door-01');
    expect(entry.password.scrypt).toMatch(/^scrypt\$4096\$8\$1\$/);

    // The device connects with exactly these settings, through the restarted broker, and its event is stored.
    const dev = await connect(`mqtt://${s.host}:${s.port}`, { clientId: s.clientId, username: s.username, password: s.password });
    const stream = await eventStream(guard);
    await publish(dev, s.topics.event, JSON.stringify({ id: 'n1', type: 'door', state: 'forced' }));
    await stream.wait('event', (e) => e.deviceId === 'door-01' && e.kind === 'door_forced');
    stream.close();
    await end(dev);
    expect((await guard.get('/api/devices')).body.devices.map((d: { id: string }) => d.id)).toContain('door-01');
    // The county's inventory follows the applied config, without a restart.
    const inventory = await fetch(`${p.base}/api/county/v1/devices`, { headers: { authorization: `Bearer ${COUNTY_READ}` } });
    expect(((await inventory.json()) as { items: { id: string; kind: string }[] }).items).toContainEqual(
      expect.objectContaining({ id: 'door-01', kind: 'access_controller' }),
    );
    const audit = await p.app.store.audit.list({ actor: 'anzhuang' });
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['device.add', 'config.apply']));
  });

  it('refuses a device with missing fields, naming them, and changes nothing', async () => {
    const before = readFileSync(p.file, 'utf8');
    const r = await installer.post('/api/installer/devices', { kind: 'sensor', name: '烟感', grid: 'nope', place: { point: 'entrance' } });
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_device' } });
    expect(r.body.problems.map((x: { path: string }) => x.path)).toEqual(['grid', 'sensorType']);
    expect(readFileSync(p.file, 'utf8')).toBe(before);
    expect((await guard.post('/api/installer/devices', { kind: 'sensor' })).status).toBe(403);
  });
});

describe('config export and import', () => {
  it('exports the file, shows a dry-run diff of an edited copy, applies it, and records who changed what', async () => {
    const exported = await installer.get('/api/installer/config/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment; filename="sw-320602-010-site\.yaml"/);
    const edited = exported.body.replace('name: 北门声光报警器', 'name: 北门声光报警器（新）');
    const check = await installer.post('/api/installer/config/check', { name: 'site.yaml', text: edited });
    expect(check.body).toMatchObject({ ok: true, restarts: ['devices'], restartRequired: [] });
    expect(check.body.diff.changes).toEqual([{ path: 'devices[siren-1].name', kind: 'changed', before: '北门声光报警器', after: '北门声光报警器（新）' }]);
    expect(readFileSync(p.file, 'utf8')).not.toContain('（新）'); // a dry run writes nothing

    const bad = await installer.post('/api/installer/config/check', { name: 'site.yaml', text: edited.replace('kind: siren', 'kind: sirene') });
    expect(bad.body.ok).toBe(false);
    expect(bad.body.problems[0]).toMatchObject({ path: expect.stringMatching(/^devices\[\d+\]/), message: expect.stringContaining('sirene') });

    const apply = await installer.post('/api/installer/config/apply', { name: 'site.yaml', text: edited });
    expect(apply.body).toMatchObject({ ok: true, restarted: ['devices'] });
    expect(readFileSync(p.file, 'utf8')).toContain('北门声光报警器（新）');
    expect((await guard.get('/api/devices')).body.devices.find((d: { id: string }) => d.id === 'siren-1').name).toBe('北门声光报警器（新）');
    const history = await installer.get('/api/installer/config/history');
    expect(history.body.changes[0]).toMatchObject({ actor: 'anzhuang', summary: 'changed siren-1', outcome: 'applied' });
  });

  it('rolls back a change that fails to start: a TLS port that is taken; the old file and the old broker are back', async () => {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${p.dir}/key.pem`, '-out', `${p.dir}/cert.pem`, '-days', '1', '-subj', '/CN=127.0.0.1'],
      {
        stdio: 'ignore',
      },
    );
    const taken = netServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const before = readFileSync(p.file, 'utf8');
      const edited = before.replace(/^broker:\n/m, `broker:\n  tls: { port: ${port}, certFile: cert.pem, keyFile: key.pem }\n`);
      expect(edited).not.toBe(before);
      expect((await installer.post('/api/installer/config/check', { name: 'site.yaml', text: edited })).body).toMatchObject({
        ok: true,
        restarts: ['devices'],
      });
      const r = await installer.post('/api/installer/config/apply', { name: 'site.yaml', text: edited });
      expect(r.status).toBe(500);
      expect(r.body).toMatchObject({ error: 'rolled_back', failedPart: 'devices' });
      expect(r.body.message).toMatch(/broker\.tls\.port.*already in use|EADDRINUSE/);
      expect(readFileSync(p.file, 'utf8')).toBe(before);
      // The old broker is back on its port: a device connects and its event is stored.
      const dev = await connect(p.mqttUrl, { clientId: 'door-2', username: 'door-2', password: 'door-2-demo' });
      await publish(dev, 'sw/v1/door-2/event', JSON.stringify({ id: 'after-rollback', type: 'door', state: 'forced' }));
      await end(dev);
      const history = await installer.get('/api/installer/config/history');
      expect(history.body.changes[0].outcome).toMatch(/^failed, rolled back: devices: /);
      const audit = await p.app.store.audit.list({ action: 'config.apply' });
      expect(audit[0]).toMatchObject({ actor: 'anzhuang', outcome: expect.stringMatching(/^failed, rolled back/) });
    } finally {
      taken.close();
    }
  });
});

describe('walk test', () => {
  it('turns each device green when its event arrives after the start, and keeps the result', async () => {
    const start = await installer.post('/api/installer/walk-test', { action: 'start', devices: ['door-2', 'sos-1', 'panel-1'] });
    expect(start.body.devices.map((d: { passed: boolean }) => d.passed)).toEqual([false, false, false]);
    const s = await eventStream(installer);
    const sos = await connect(p.mqttUrl, { clientId: 'sos-1', username: 'sos-1', password: 'sos-1-demo' });
    await publish(sos, 'sw/v1/sos-1/event', JSON.stringify({ id: 'w1', type: 'sos', state: 'pressed' }));
    const hit = await s.wait('walk', (w) => w.deviceId === 'sos-1');
    expect(hit).toMatchObject({ kind: 'sos' });
    await end(sos);
    s.close();
    const st = (await installer.get('/api/installer/walk-test')).body;
    expect(st.running).toBe(true);
    expect(st.devices.map((d: { id: string; passed: boolean }) => [d.id, d.passed])).toEqual([
      ['door-2', false],
      ['sos-1', true],
      ['panel-1', false],
    ]);
  });
});

describe('coverage, site plan and acceptance report', () => {
  it('uploads a plan image (checked by its bytes), places devices, and everyone sees the plan', async () => {
    const img = png(800, 600);
    const res = await fetch(`${p.base}/api/installer/plan/image`, {
      method: 'PUT',
      headers: { cookie: installer.cookie!, 'x-csrf-token': installer.csrf!, 'content-type': 'image/png' },
      body: img,
    });
    expect(res.status).toBe(200);
    const svg = await fetch(`${p.base}/api/installer/plan/image`, {
      method: 'PUT',
      headers: { cookie: installer.cookie!, 'x-csrf-token': installer.csrf!, 'content-type': 'image/png' },
      body: '<svg><script>alert(1)</script></svg>',
    });
    expect(svg.status).toBe(415);
    expect((await installer.req('PUT', '/api/installer/plan/positions', { positions: [{ deviceId: 'door-1', x: 0.25, y: 0.5 }] })).status).toBe(200);
    expect((await installer.req('PUT', '/api/installer/plan/positions', { positions: [{ deviceId: 'ghost', x: 0.1, y: 0.1 }] })).status).toBe(400);
    const plan = (await guard.get('/api/plan')).body;
    expect(plan).toMatchObject({
      image: { mime: 'image/png', width: 800, height: 600, updatedBy: 'anzhuang' },
      positions: [{ deviceId: 'door-1', x: 0.25, y: 0.5 }],
    });
    const image = await fetch(`${p.base}/api/plan/image`, { headers: { cookie: guard.cookie! } });
    expect(Buffer.from(await image.arrayBuffer())).toEqual(img);
  });

  it('makes an acceptance report: site, devices with state and last event, walk test, coverage, a live upstream test, installer and date', async () => {
    const hits = countyHits;
    const r = await installer.post('/api/installer/acceptance', { notes: '主体工程已完工' });
    expect(r.status).toBe(201);
    const rep = r.body.report;
    expect(rep.site).toMatchObject({ name: '测试小区', divisionCode: '320602001001' });
    expect(rep.installer).toEqual({ username: 'anzhuang', name: 'installer测试' });
    expect(rep.upstream).toMatchObject({ configured: true, reachable: true, status: 204 });
    expect(countyHits).toBe(hits + 1);
    expect(rep.devices.find((d: { id: string }) => d.id === 'sos-1')).toMatchObject({
      walk: { tested: true, passed: true, eventKind: 'sos' },
      lastEvent: { kind: expect.any(String) },
    });
    expect(rep.devices.find((d: { id: string }) => d.id === 'door-2').walk).toMatchObject({ tested: true, passed: false });
    expect(rep.passed).toBe(false);
    const again = await installer.get(`/api/installer/acceptance/${r.body.id}`);
    expect(again.body.report).toEqual(rep);
  });
});
