import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('simulators are honest peers', () => {
  it('import nothing from gateway/, device-drivers/ or cloud-bridge/', () => {
    const offenders: string[] = [];
    for (const file of tsFiles(path.join(ROOT, 'simulators'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1] ?? '';
        if (!spec.startsWith('.')) continue;
        const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
        if (/^(gateway|device-drivers|cloud-bridge)(\/|$)/.test(target)) offenders.push(`${path.relative(ROOT, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('covers the ONVIF camera simulator, which speaks SOAP with its own parser', () => {
    const files = tsFiles(path.join(ROOT, 'simulators', 'onvif-camera'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1] ?? '';
        if (!spec.startsWith('.')) continue;
        const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
        // its own files, and config/ only to read a site file
        expect(target, `${path.relative(ROOT, file)} imports ${spec}`).toMatch(/^(simulators\/onvif-camera\/|config\/)/);
      }
    }
  });
});

describe('the county platform simulator', () => {
  it('speaks HTTP and MQTT only: node built-ins, mqtt, and its own files', () => {
    const dir = path.join(ROOT, 'simulators', 'county-platform');
    const files = tsFiles(dir);
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['receiver.ts', 'accounting.ts', 'auth.ts', 'puller.ts', 'cli.ts']));
    const outside: string[] = [];
    for (const file of files) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1] ?? '';
        const ok = spec.startsWith('node:') || spec === 'mqtt' || (spec.startsWith('./') && !spec.includes('..'));
        if (!ok) outside.push(`${path.relative(ROOT, file)} → ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
