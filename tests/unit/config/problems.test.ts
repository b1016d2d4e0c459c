import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblems, loadConfigFile, loadConfigOrThrow, parseConfig } from '../../../config/load.ts';
import type { ConfigProblem } from '../../../config/load.ts';
import { minimalConfig, tempDir, writeFile } from './helpers.ts';

/** A config with (at least) 20 distinct mistakes, one per line marked "#!". */
const MANY_MISTAKES = `demo: false
site:
  boxId: SW_1                              #! bad box id
  name: 测试小区
  divisionCode: "3206"                     #! too short
  kind: estate                             #! unknown site kind
  timezone: Asia/Shangai                   #! not a zone
grids:
  - { code: "320602001001-01", name: 一网格 }
  - { code: "320602001001-01", name: 重复网格 }   #! duplicate grid
devices:
  - id: cam-1
    kind: onvif_camera
    name: 北门
    grid: "320602001001-09"                #! unknown grid
    place: { point: gatee }                #! bad point
    host: 192.168.1.300                    #! bad IPv4
    port: 70000                            #! out of range
    username: onvif
    password: { env: CAM_GATE_PW }         #! env not set
  - id: cam-1                              #! duplicate id
    kind: onvif_camera
    name: 南门
    grid: "320602001001-01"
    place: { point: gate }
    host: 192.168.1.65
    prot: 80                               #! unknown key
    username: onvif
    password: short                        #! too short
  - id: panel-1
    kind: alarm_panel
    name: 主机
    grid: "320602001001-01"
    place: { point: public_area }
    password: panel-1-demo                 #! demo secret
    zones:
      - { number: 1, name: 周界, type: perimeter, linkedCameras: [cam-9] }   #! no such camera
      - { number: 1, name: 仓库, type: burglary }                            #! duplicate zone, bad type
  - id: x
    kind: camra                            #! unknown kind
    name: 坏
  - id: door-1
    kind: access_controller
    name: 门禁
    grid: "320602001001-01"
    place: { point: entrance }
    gbId: "3206020001124000001"            #! 19 digits
    password: door-1-strong-pass
    door: { name: 1栋门 }
    heldOpenSeconds: 2                     #! below 5
    linkedCameras: [panel-1]               #! not a camera
upstream:
  county:
    url: ftp://county                      #! not http
    auth: { type: bearer, token: demo-county-token }   #! demo token
    batchSize: 0                           #! below 1
storage:
  budget: { maxDbMb: 2048, hardCapMb: 1024 }   #! cap below max
logging: { level: verbose }                #! bad level
`;

function byPath(problems: ConfigProblem[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of problems) m.set(p.path, [...(m.get(p.path) ?? []), p.message]);
  return m;
}

describe('a file with many mistakes', () => {
  it('reports every one of them, each with its path', async () => {
    const file = writeFile(tempDir(), 'site.yaml', MANY_MISTAKES);
    const r = await loadConfigFile(file, { env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const marked = MANY_MISTAKES.split('\n').filter((l) => l.includes('#!')).length;
    expect(marked).toBeGreaterThanOrEqual(20);
    expect(r.problems.length).toBeGreaterThanOrEqual(24);
    for (const p of r.problems) {
      expect(p.path).toMatch(/^[a-zA-Z]+(\.[a-zA-Z]+|\[\d+\])*$/);
      expect(p.message.length).toBeGreaterThan(5);
    }
    const m = byPath(r.problems);
    const has = (path: string, message: string) => expect(m.get(path) ?? [], path).toContain(message);

    has('devices[0].host', '"192.168.1.300" is not an IPv4 address or host name');
    has('devices[1].prot', 'unknown key (did you mean "port"?)');
    has('site.divisionCode', 'expected 12 digits (统计用区划代码), got "3206"');
    has('devices[3].kind', 'unknown device kind "camra" (did you mean "onvif_camera"?)');
    has('devices[0].password', 'environment variable CAM_GATE_PW is not set');
    has('devices[0].port', 'must be at most 65535, got 70000');
    has('devices[1].id', 'duplicate device id "cam-1" (also devices[0])');
    has('devices[0].grid', 'unknown grid "320602001001-09"');
    has('devices[2].zones[1].number', 'duplicate zone number 1 (also zones[0])');
    has('devices[2].zones[0].linkedCameras[0]', 'no device with id "cam-9"');
    has('devices[4].linkedCameras[0]', '"panel-1" is an alarm_panel, not an onvif_camera');
    has('storage.budget.hardCapMb', 'hardCapMb (1024) must be at least maxDbMb (2048)');
    has('devices[1].password', 'secret too short (5 characters, at least 8)');
    has('devices[2].password', 'this is a demo secret, refused outside demo mode');
    has('upstream.county.auth.token', 'this is a demo secret, refused outside demo mode');
    expect(m.get('site.kind')?.[0]).toMatch(
      /"estate" is not one of admin_village, natural_village, urban_estate, organization \(did you mean "urban_estate"\?\)/,
    );
    expect(m.get('logging.level')?.[0]).toContain('fatal, error, warn, info, debug, trace');
    for (const path of [
      'site.boxId',
      'site.timezone',
      'grids[1].code',
      'devices[0].place.point',
      'devices[2].zones[1].type',
      'devices[4].gbId',
      'devices[4].heldOpenSeconds',
      'upstream.county.url',
      'upstream.county.batchSize',
    ]) {
      expect(m.has(path), path).toBe(true);
    }

    // hints: valid kinds are listed for an unknown kind; known keys for an unknown key
    const kindProblem = r.problems.find((p) => p.path === 'devices[3].kind');
    expect(kindProblem?.hint).toContain('onvif_camera (摄像机)');
    expect(r.problems.find((p) => p.path === 'devices[1].prot')?.hint).toContain('port');

    // in file order, with line numbers
    const lines = r.problems.map((p) => p.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(r.problems.find((p) => p.path === 'devices[0].host')?.line).toBe(17);
  });

  it('formats one line per problem, hints below', () => {
    const text = formatProblems([
      { path: 'devices[0].port', message: 'must be at most 65535, got 70000', hint: 'TCP port' },
      { path: 'site.name', message: 'must not be empty' },
    ]);
    expect(text.split('\n')).toEqual(['devices[0].port: must be at most 65535, got 70000', '  hint: TCP port', 'site.name: must not be empty']);
  });

  it('loadConfigOrThrow throws a ConfigError listing every problem', async () => {
    const file = writeFile(tempDir(), 'site.yaml', MANY_MISTAKES);
    const err = await loadConfigOrThrow(file, { env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    if (!(err instanceof ConfigError)) return;
    expect(err.problems.length).toBeGreaterThanOrEqual(24);
    expect(err.message).toContain('devices[0].host: "192.168.1.300" is not an IPv4 address or host name');
    expect(err.message).toContain('site.divisionCode: expected 12 digits');
  });
});

describe('single mistakes', () => {
  it('a missing required field is named', () => {
    const raw = minimalConfig();
    delete (raw.site as Record<string, unknown>).divisionCode;
    const r = parseConfig(raw, { env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([expect.objectContaining({ path: 'site.divisionCode', message: 'missing (required)' })]);
    expect(r.problems[0]?.hint).toContain('统计用区划代码');
  });

  it('an unquoted division code gets a hint to quote it', () => {
    const raw = minimalConfig();
    (raw.site as Record<string, unknown>).divisionCode = 320602001001;
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems[0]).toMatchObject({ path: 'site.divisionCode', message: 'expected text, got number 320602001001' });
    expect(r.problems[0]?.hint).toMatch(/quotes/);
  });

  it('unknown keys far from any known key get no suggestion', () => {
    const raw = minimalConfig();
    (raw.site as Record<string, unknown>).colour = 'blue';
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toEqual([expect.objectContaining({ path: 'site.colour', message: 'unknown key' })]);
  });

  it('unknown top-level sections are refused with a suggestion', () => {
    const raw = { ...minimalConfig(), logs: { level: 'info' } };
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems[0]).toMatchObject({ path: 'logs', message: 'unknown key (did you mean "logging"?)' });
  });

  it('a device without a kind lists the kinds', () => {
    const raw = minimalConfig();
    delete ((raw.devices as Record<string, unknown>[])[0] as Record<string, unknown>).kind;
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toContainEqual(expect.objectContaining({ path: 'devices[0].kind', message: 'missing device kind (required)' }));
  });

  it('a minimal file gets full defaults', () => {
    const r = parseConfig(minimalConfig(), { env: {} });
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const c = r.config;
    expect(c.demo).toBe(false);
    expect(c.mqttBridges).toEqual([]);
    expect(c.upstream.county).toBeUndefined();
    expect(c.upstream.forward.eventKinds).toContain('door_forced');
    expect(c.upstream.forward.eventKinds).not.toContain('motion');
    expect(c.countyApi).toEqual({ enabled: false, tokens: [] });
    expect(c.panel).toMatchObject({ host: '0.0.0.0', port: 8080, language: 'zh-CN', lockoutAfterFailures: 5, sessionIdleMinutes: 720 });
    expect(c.broker).toMatchObject({ host: '0.0.0.0', port: 1883, maxConnections: 1000, maxPayloadBytes: 65536 });
    expect(c.storage.retention.outbox).toEqual({ alarmsDays: 30, recordsDays: 7, statusDays: 1 });
    expect(c.storage.budget).toEqual({ maxDbMb: 1024, hardCapMb: 1536, minFreeMb: 200 });
    expect(c.rules.offlineDebounceSeconds).toBe(60);
    expect(c.logging).toEqual({ level: 'info', pretty: false });
    const cam = c.devices[0];
    expect(cam?.kind === 'onvif_camera' && [cam.port, cam.ptz, cam.eventsEnabled, cam.snapshot]).toEqual([80, false, true, true]);
  });

  it('county API enabled without tokens is a problem', () => {
    const r = parseConfig({ ...minimalConfig(), countyApi: { enabled: true } }, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toEqual([expect.objectContaining({ path: 'countyApi.tokens', message: 'the county API is enabled but has no tokens' })]);
  });
});
