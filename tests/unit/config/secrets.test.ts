import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, summarize } from '../../../config/load.ts';
import { Secret } from '../../../config/schema/secret.ts';
import { minimalConfig, tempDir, writeFile } from './helpers.ts';

type Obj = Record<string, unknown>;
const devices = (raw: Obj) => raw.devices as Obj[];

describe('secrets', () => {
  it('a missing environment variable is named with its path', async () => {
    const raw = minimalConfig();
    devices(raw)[0]!.password = { env: 'CAM_GATE_PW' };
    const file = writeFile(tempDir(), 'site.yaml', raw);
    const r = await loadConfigFile(file, { env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([expect.objectContaining({ path: 'devices[0].password', message: 'environment variable CAM_GATE_PW is not set' })]);
  });

  it('reads a secret from the environment', async () => {
    const raw = minimalConfig();
    devices(raw)[0]!.password = { env: 'CAM_GATE_PW' };
    const file = writeFile(tempDir(), 'site.yaml', raw);
    const r = await loadConfigFile(file, { env: { CAM_GATE_PW: 'env-camera-pass' } });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const cam = r.config.devices[0];
    expect(cam?.kind === 'onvif_camera' && cam.password.reveal()).toBe('env-camera-pass');
  });

  it('reads a secret from a file relative to the config, and never leaks it', async () => {
    const dir = tempDir();
    writeFile(dir, 'secrets/sos-01', 'file-secret-value\n');
    const raw = minimalConfig();
    devices(raw)[1]!.password = { file: 'secrets/sos-01' };
    const file = writeFile(dir, 'site.yaml', raw);
    const r = await loadConfigFile(file, { env: {} });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const sos = r.config.devices[1];
    if (sos?.kind !== 'sos_button') throw new Error('expected the SOS button');
    expect(sos.password).toBeInstanceOf(Secret);
    expect(sos.password.reveal()).toBe('file-secret-value'); // trailing newline trimmed

    expect(String(sos.password)).toBe('[secret]');
    expect(`${sos.password}`).toBe('[secret]');
    const json = JSON.stringify(r.config);
    expect(json).not.toContain('file-secret-value');
    expect(json).not.toContain('camera-password-1');
    expect(JSON.parse(json).devices[1].password).toBe('[secret]');
    expect(util.inspect(r.config, { depth: 10 })).not.toContain('file-secret-value');
    expect(summarize(r.config)).not.toContain('file-secret-value');
  });

  it('an unreadable secret file is named with its path', async () => {
    const raw = minimalConfig();
    devices(raw)[1]!.password = { file: 'secrets/nope' };
    const r = await loadConfigFile(writeFile(tempDir(), 'site.yaml', raw), { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems[0]?.path).toBe('devices[1].password');
    expect(r.problems[0]?.message).toMatch(/^cannot read secret file "secrets\/nope" \(not found/);
  });

  it('a malformed secret reference is explained', () => {
    const raw = minimalConfig();
    devices(raw)[1]!.password = { envv: 'X' };
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toContainEqual(
      expect.objectContaining({ path: 'devices[1].password', message: 'expected a secret: a plain string, { env: NAME }, { file: path } or { scrypt: hash }' }),
    );
  });

  it('demo secrets are refused outside demo mode', () => {
    const raw = minimalConfig();
    devices(raw)[1]!.password = 'sos-01-demo';
    raw.upstream = { county: { url: 'https://county.example.cn/ingest', auth: { type: 'bearer', token: 'demo-county-token' } } };
    raw.countyApi = { enabled: true, tokens: [{ name: 'county', token: 'demo-county-token' }] };
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems.map((p) => [p.path, p.message])).toEqual([
      ['devices[1].password', 'this is a demo secret, refused outside demo mode'],
      ['upstream.county.auth.token', 'this is a demo secret, refused outside demo mode'],
      ['countyApi.tokens[0].token', 'this is a demo secret, refused outside demo mode'],
    ]);
  });

  it('short secrets are refused outside demo mode', () => {
    const raw = minimalConfig();
    devices(raw)[0]!.password = 'admin';
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toEqual([expect.objectContaining({ path: 'devices[0].password', message: 'secret too short (5 characters, at least 8)' })]);
  });

  it('demo mode allows demo secrets but binds loopback only', () => {
    const raw = { ...minimalConfig(), demo: true };
    devices(raw)[1]!.password = 'sos-01-demo';
    const r = parseConfig(raw, { env: {} });
    if (r.ok) throw new Error('expected problems');
    // panel and broker default to 0.0.0.0
    expect(r.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'panel.host: a demo config binds loopback only (got "0.0.0.0")',
      'broker.host: a demo config binds loopback only (got "0.0.0.0")',
    ]);

    const ok = parseConfig({ ...raw, panel: { host: '127.0.0.1' }, broker: { host: '::1' } }, { env: {} });
    expect(ok.ok).toBe(true);
    const local = parseConfig({ ...raw, panel: { host: 'localhost' }, broker: { host: '0.0.0.0' } }, { env: {} });
    if (local.ok) throw new Error('expected problems');
    expect(local.problems.map((p) => p.message)).toEqual(['a demo config binds loopback only (got "0.0.0.0")']);
  });
});
