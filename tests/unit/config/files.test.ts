import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../../config/load.ts';
import { SiteConfigSchema } from '../../../config/schema.ts';
import { withResolveContext } from '../../../config/schema/common.ts';
import { minimalConfig, tempDir, writeFile } from './helpers.ts';

describe('config files', () => {
  it('a YAML syntax error is one problem with line:column', async () => {
    const text = 'site:\n  boxId: sw-1\n  name: [unclosed\ngrids: []\n';
    const r = await loadConfigFile(writeFile(tempDir(), 'site.yaml', text));
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toHaveLength(1);
    const p = r.problems[0]!;
    expect(p.path).toMatch(/^site\.yaml:\d+:\d+$/);
    expect(p.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    expect(p.line).toBeGreaterThanOrEqual(3);
  });

  it('a duplicate key in YAML is a syntax error, not a crash', async () => {
    const text = 'site:\n  name: a\n  name: b\n';
    const r = await loadConfigFile(writeFile(tempDir(), 'dup.yml', text));
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ path: 'dup.yml:3:3', line: 3, column: 3 });
  });

  it('a JSON config works', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'site.json');
    writeFile(dir, 'site.json', JSON.stringify(minimalConfig(), null, 2));
    const r = await loadConfigFile(file, { env: {} });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.file).toBe(file);
    expect(r.config.devices).toHaveLength(2);
  });

  it('a JSON syntax error gives line:column', async () => {
    const r = await loadConfigFile(writeFile(tempDir(), 'site.json', '{\n  "site": {\n    "name": "x",\n  }\n}\n'));
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.message).toMatch(/^JSON syntax error at line 4, column \d+/);
    expect(r.problems[0]?.path).toMatch(/^site\.json:4:\d+$/);
  });

  it('JSON problems are located too', async () => {
    const raw = minimalConfig();
    ((raw.devices as Record<string, unknown>[])[0] as Record<string, unknown>).host = '192.168.1.300';
    const text = JSON.stringify(raw, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('192.168.1.300')) + 1;
    const r = await loadConfigFile(writeFile(tempDir(), 'site.json', text), { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toEqual([expect.objectContaining({ path: 'devices[0].host', message: '"192.168.1.300" is not an IPv4 address or host name', line })]);
  });

  it('a missing file is one problem naming it', async () => {
    const file = path.join(tempDir(), 'nope.yaml');
    const r = await loadConfigFile(file);
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.message).toBe(`config file not found: ${file}`);
  });

  it('an empty file is one problem', async () => {
    const r = await loadConfigFile(writeFile(tempDir(), 'empty.yaml', '# nothing yet\n'));
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toEqual([expect.objectContaining({ path: '(root)', message: 'the config is empty' })]);
  });

  it('YAML anchors and merge keys work for repeated camera settings', async () => {
    const yamlText = `site: { boxId: sw-320602-099, name: 测试, divisionCode: "320602001001", kind: urban_estate }
grids: [{ code: "320602001001-01", name: 一网格 }]
devices:
  - &cam
    id: cam-a
    kind: onvif_camera
    name: A
    grid: "320602001001-01"
    place: { point: gate }
    host: 192.168.1.10
    username: onvif
    password: camera-password-1
  - <<: *cam
    id: cam-b
    name: B
    host: 192.168.1.11
`;
    const r = await loadConfigFile(writeFile(tempDir(), 'site.yaml', yamlText), { env: {} });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.devices.map((d) => d.id)).toEqual(['cam-a', 'cam-b']);
    expect(r.config.site.timezone).toBe('Asia/Shanghai');
  });

  it('TLS file paths resolve against the config folder and must exist', async () => {
    const dir = tempDir();
    writeFile(dir, 'tls/panel.crt', 'CERT');
    const raw = { ...minimalConfig(), panel: { tls: { certFile: 'tls/panel.crt', keyFile: 'tls/panel.key' } } };
    const r = await loadConfigFile(writeFile(dir, 'site.yaml', raw), { env: {} });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.path).toBe('panel.tls.keyFile');
    expect(r.problems[0]?.message).toMatch(/^file not found: "tls\/panel.key"/);

    writeFile(dir, 'tls/panel.key', 'KEY');
    const ok = await loadConfigFile(path.join(dir, 'site.yaml'), { env: {} });
    if (!ok.ok) throw new Error(JSON.stringify(ok.problems));
    expect(ok.config.panel.tls?.certFile).toBe(path.join(dir, 'tls/panel.crt'));
  });

  it('the root schema alone also runs the cross-checks', () => {
    const raw = minimalConfig();
    ((raw.devices as Record<string, unknown>[])[1] as Record<string, unknown>).grid = 'nope';
    const r = withResolveContext({ env: {}, baseDir: tempDir() }, () => SiteConfigSchema.safeParse(raw));
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toContain('unknown grid "nope"');
    expect(parseConfig(minimalConfig(), { env: {} }).ok).toBe(true);
  });
});
