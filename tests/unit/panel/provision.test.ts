import { scryptSync, timingSafeEqual } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.ts';
import type { SiteConfig } from '../../../config/schema.ts';
import { parseScrypt, type ScryptHash } from '../../../config/schema/secret.ts';
import { passwordProblem } from '../../../gateway/panel/auth/passwords.ts';
import { diffConfigs } from '../../../gateway/provision/config-diff.ts';
import { coverage } from '../../../gateway/provision/coverage.ts';
import { connectionSettings, deviceEntry, newDeviceProblems } from '../../../gateway/provision/mqtt-device.ts';
import { imageInfo } from '../../../gateway/provision/plan-image.ts';
import { smallSite } from '../../helpers/app.ts';

/** Does `candidate` hash to `h`? (The broker checks logins its own, asynchronous way: gateway/broker/credentials.ts.) */
function verifyScrypt(h: ScryptHash, candidate: string): boolean {
  const got = scryptSync(candidate, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 });
  return timingSafeEqual(got, h.hash);
}

const cam = (id: string, point: string, grid = '320602001001-01') => ({
  id,
  kind: 'onvif_camera',
  name: id,
  grid,
  place: { point },
  host: '127.0.0.1',
  username: 'admin',
  password: 'admin-demo',
});

function village(cams: object[]): SiteConfig {
  return smallSite({ site: { boxId: 'sw-320623-105', name: '新华村', divisionCode: '320623105201', kind: 'admin_village' }, devices: cams });
}

describe('coverage: 5 camera points per 行政村, 2 at each 自然村 main intersection', () => {
  it('passes a village with 5 cameras and two natural villages each with 2 intersection cameras', () => {
    const cfg = village([cam('c1', 'intersection'), cam('c2', 'intersection'), cam('c3', 'intersection'), cam('c4', 'intersection'), cam('c5', 'gate')]);
    const r = coverage(cfg, [
      { id: 'v1', name: '东庄', cameras: ['c1', 'c2'] },
      { id: 'v2', name: '西庄', cameras: ['c3', 'c4'] },
    ]);
    expect(r).toMatchObject({ ok: true, cameras: 5, required: 5, problems: [] });
    expect(r.byPoint).toMatchObject({ intersection: 4, gate: 1 });
  });

  it('names what is missing: too few points, a natural village with a gate camera instead of an intersection', () => {
    const cfg = village([cam('c1', 'intersection'), cam('c2', 'gate'), cam('c3', 'intersection')]);
    const r = coverage(cfg, [{ id: 'v1', name: '东庄', cameras: ['c1', 'c2'] }]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      '东庄: 1 camera(s) at main intersections, needs 2 (自然村主要路口不少于2路)',
      '3 camera point(s), an administrative village needs at least 5 (行政村不少于5路)',
    ]);
    expect(r.villages[0]).toMatchObject({ atIntersection: 1, ok: false });
    // Two more points for the village's 5 (one of them at 东庄's intersection covers its shortfall too).
    expect(r.missing).toBe(2);
    const more = coverage(village([cam('c1', 'gate'), cam('c2', 'gate'), cam('c3', 'gate'), cam('c4', 'gate'), cam('c5', 'gate')]), [
      { id: 'v1', name: '东庄', cameras: ['c1'] },
      { id: 'v2', name: '西庄', cameras: ['c2'] },
    ]);
    // 5 points, but 4 intersection cameras still to add for the two natural villages.
    expect(more.missing).toBe(4);
  });

  it('does not apply the village rule to an urban estate', () => {
    expect(coverage(smallSite(), [])).toMatchObject({ rule: null, ok: true, required: null, missing: null });
  });
});

describe('config diff', () => {
  it('matches devices by id and never shows a secret', () => {
    const a = smallSite();
    const raw = structuredClone({
      demo: true,
      site: { boxId: 'sw-320602-010', name: '测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
      grids: [{ code: '320602001001-01', name: '一网格' }],
      devices: [
        {
          id: 'door-2',
          kind: 'access_controller',
          name: '1栋2单元门（改）',
          grid: '320602001001-01',
          place: { point: 'entrance' },
          password: 'a-new-password-1',
          door: { name: '1栋2单元' },
        },
        {
          id: 'door-1',
          kind: 'access_controller',
          name: '1栋1单元门',
          grid: '320602001001-01',
          place: { point: 'entrance' },
          password: 'door-1-demo',
          door: { name: '1栋1单元' },
        },
        {
          id: 'sos-9',
          kind: 'sos_button',
          name: '新一键报警',
          grid: '320602001001-01',
          place: { point: 'entrance' },
          password: 'sos-9-password-x',
          household: '9',
        },
      ],
      panel: { host: '127.0.0.1', port: 8080 },
      broker: { host: '127.0.0.1', port: 1884 },
    });
    const r = parseConfig(raw);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const d = diffConfigs(a, r.config);
    expect(d.devices).toEqual({ added: ['sos-9'], removed: ['panel-1', 'sos-1'], changed: ['door-2'] });
    expect(d.areas).toEqual(expect.arrayContaining(['devices', 'broker']));
    expect(d.changes).toContainEqual({ path: 'broker.port', kind: 'changed', before: 1883, after: 1884 });
    const pw = d.changes.find((c) => c.path === 'devices[door-2].password')!;
    expect(String(pw.before)).toMatch(/^\[secret inline #[0-9a-f]{8}\]$/);
    expect(JSON.stringify(d)).not.toContain('a-new-password-1');
    expect(JSON.stringify(d)).not.toContain('door-2-demo');
    expect(diffConfigs(a, a).changes).toEqual([]);
  });
});

describe('adding an MQTT device', () => {
  it('generates an id and a strong password kept only as a scrypt hash in the entry, and the connection settings', () => {
    const cfg = smallSite();
    const { entry, id, password } = deviceEntry(
      { kind: 'access_controller', name: '2栋1单元门', grid: '320602001001-01', place: { building: '2栋', point: 'entrance' }, door: '2栋1单元' },
      cfg,
    );
    expect(id).toBe('door-01');
    expect(password).toMatch(/^[a-zA-Z2-9]{20}$/);
    const hash = parseScrypt((entry.password as { scrypt: string }).scrypt)!;
    expect(verifyScrypt(hash, password!)).toBe(true);
    expect(JSON.stringify(entry)).not.toContain(password);
    expect(entry).toMatchObject({ kind: 'access_controller', door: { name: '2栋1单元' }, place: { building: '2栋', point: 'entrance' } });
    const s = connectionSettings(id, password, cfg, '192.168.1.10', [{ port: 1883, tls: false }]);
    expect(s).toMatchObject({
      host: '192.168.1.10',
      port: 1883,
      clientId: 'door-01',
      username: 'door-01',
      topics: { event: 'sw/v1/door-01/event', cmd: 'sw/v1/door-01/cmd' },
      will: { topic: 'sw/v1/door-01/status', payload: 'offline' },
    });
  });

  it('names the missing kind fields and an unknown grid or camera', () => {
    const problems = newDeviceProblems(
      { kind: 'sos_button', id: 'door-1', name: 'x', grid: 'nope', place: { point: 'gate' }, linkedCameras: ['cam-x'] },
      smallSite(),
    );
    expect(problems.map((p) => p.path)).toEqual(['id', 'grid', 'linkedCameras', 'household']);
  });
});

describe('site plan images', () => {
  it('recognises PNG and JPEG by their bytes and reads the size; refuses anything else (an SVG with a script)', () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      Buffer.from('IHDR'),
      Buffer.from([0, 0, 3, 0, 0, 0, 2, 0, 8, 2, 0, 0, 0]),
      deflateSync(Buffer.alloc(0)),
    ]);
    expect(imageInfo(png)).toEqual({ mime: 'image/png', width: 768, height: 512 });
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 1, 0x2c, 2, 0x58, 3, 0, 0, 0]);
    expect(imageInfo(jpeg)).toEqual({ mime: 'image/jpeg', width: 600, height: 300 });
    expect(imageInfo(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))).toBeNull();
  });
});

describe('panel passwords', () => {
  it('refuses short, name-like and well-known passwords', () => {
    expect(passwordProblem('abc', 'wang')).toBe('too_short');
    expect(passwordProblem('wang-1234567', 'wang')).toBe('like_username');
    expect(passwordProblem('password123', 'li')).toBe('too_common');
    expect(passwordProblem('aaaaaaaaaaaa', 'li')).toBe('too_common');
    expect(passwordProblem('correct horse battery', 'li')).toBeNull();
  });
});
