import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_CONFIG_FILE, loadConfigFile, summarize } from '../../../config/load.ts';
import { Secret } from '../../../config/schema.ts';
import type { DeviceKind, SiteConfig } from '../../../config/schema.ts';
import { CONFIG_DIR, envFor } from './helpers.ts';

function countKinds(config: SiteConfig): Partial<Record<DeviceKind, number>> {
  const counts: Partial<Record<DeviceKind, number>> = {};
  for (const d of config.devices) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
  return counts;
}

describe('the embedded demo estate', () => {
  it('loads with zero problems and the expected devices', async () => {
    const r = await loadConfigFile(DEMO_CONFIG_FILE, { env: {} });
    if (!r.ok) expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = r.config;
    expect(c.demo).toBe(true);
    expect(c.site.kind).toBe('urban_estate');
    expect(c.site.divisionCode).toBe('320602001001');
    expect(c.grids).toHaveLength(3);
    expect(countKinds(c)).toEqual({
      onvif_camera: 24,
      alarm_panel: 2,
      access_controller: 8,
      sos_button: 10,
      sensor: 6,
      siren: 1,
      loudspeaker: 1,
    });
    const zones = c.devices.flatMap((d) => (d.kind === 'alarm_panel' ? d.zones : []));
    expect(zones).toHaveLength(16);
    expect(new Set(zones.map((z) => z.type))).toEqual(new Set(['intrusion', 'perimeter', 'fire', 'panic']));

    const cams = c.devices.filter((d) => d.kind === 'onvif_camera');
    expect(cams.map((d) => d.port).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => 18081 + i));
    for (const cam of cams) {
      expect(cam.host).toBe('127.0.0.1');
      expect(cam.username).toBe('admin');
      expect(cam.password.reveal()).toBe('admin-demo');
    }
    for (const d of c.devices) {
      if (d.kind !== 'onvif_camera' && d.kind !== 'mqtt_mapped') expect(d.password.reveal()).toBe(`${d.id}-demo`);
    }
    expect(c.panel).toMatchObject({ host: '127.0.0.1', port: 8080, language: 'zh-CN' });
    expect(c.broker).toMatchObject({ host: '127.0.0.1', port: 1883 });
    expect(c.upstream.county?.url).toBe('http://127.0.0.1:18600/api/v1/ingest');
    const auth = c.upstream.county?.auth;
    expect(auth?.type).toBe('bearer');
    if (auth?.type === 'bearer') expect(auth.token.reveal()).toBe('demo-county-token');
    expect(c.countyApi.enabled).toBe(true);
    expect(c.countyApi.tokens[0]?.token.reveal()).toBe('demo-county-token');
    // defaults are filled in
    expect(c.storage.groupCommit).toEqual({ maxBatch: 512, maxDelayMs: 2 });
    expect(c.rules.deadlines.level2).toEqual({ acceptMinutes: 15, closeMinutes: 240 });
    expect(c.upstream.county?.batchSize).toBe(200);
  });

  it('summarizes with counts and Chinese labels, and never a secret', async () => {
    const r = await loadConfigFile(DEMO_CONFIG_FILE, { env: {} });
    if (!r.ok) throw new Error('demo must load');
    const s = summarize(r.config);
    expect(s).toContain('锦绣花园');
    expect(s).toContain('sw-320602-001');
    expect(s).toContain('320602001001');
    expect(s).toContain('城镇小区');
    expect(s).toMatch(/onvif_camera\s+摄像机\s+24/);
    expect(s).toMatch(/alarm_panel\s+报警主机\s+2\s+\(16 zones\)/);
    expect(s).toMatch(/sos_button\s+一键报警\s+10/);
    expect(s).toMatch(/gate\s+出入口\s+6/);
    expect(s).toContain('127.0.0.1:18600 (bearer)');
    expect(s).toContain('http://127.0.0.1:8080');
    expect(s).toContain('mqtt://127.0.0.1:1883');
    expect(s).not.toContain('demo-county-token');
    expect(s).not.toContain('admin-demo');
  });
});

describe('the example templates', () => {
  for (const name of ['village.yaml', 'urban-estate.yaml']) {
    it(`${name} loads given its environment`, async () => {
      const file = path.join(CONFIG_DIR, 'examples', name);
      const r = await loadConfigFile(file, { env: envFor(file) });
      if (!r.ok) expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.config.demo).toBe(false);
      expect(r.config.panel.host).toBe('0.0.0.0');
      expect(r.config.broker.host).toBe('0.0.0.0');
      for (const d of r.config.devices) if (d.kind === 'onvif_camera') expect(d.host).toMatch(/^192\.168\./);
    });

    it(`${name} names every missing secret without its environment`, async () => {
      const file = path.join(CONFIG_DIR, 'examples', name);
      const r = await loadConfigFile(file, { env: {} });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.problems.length).toBeGreaterThan(3);
      for (const p of r.problems) expect(p.message).toMatch(/^environment variable [A-Z0-9_]+ is not set$/);
    });
  }

  it('the village has at least 5 cameras, intersections and 十户联防 SOS buttons', async () => {
    const file = path.join(CONFIG_DIR, 'examples', 'village.yaml');
    const r = await loadConfigFile(file, { env: envFor(file) });
    if (!r.ok) throw new Error('village must load');
    const c = r.config;
    expect(c.site.kind).toBe('admin_village');
    expect(c.devices.filter((d) => d.kind === 'onvif_camera').length).toBeGreaterThanOrEqual(5);
    expect(c.devices.some((d) => d.place.point === 'intersection')).toBe(true);
    const sos = c.devices.filter((d) => d.kind === 'sos_button');
    expect(sos.length).toBeGreaterThan(0);
    for (const d of sos) if (d.kind === 'sos_button') expect(d.group).toMatch(/十户联防/);
    const hmac = c.upstream.county?.auth;
    expect(hmac?.type).toBe('hmac');
    if (hmac?.type === 'hmac') expect(hmac.secret).toBeInstanceOf(Secret);
    const s = summarize(c);
    expect(s).toContain('行政村');
    expect(s).toContain('(hmac key xinhua-01)');
    expect(s).not.toContain('-s3cret-value');
  });
});
