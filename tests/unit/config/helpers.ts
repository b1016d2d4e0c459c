import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url));

/** A fresh temp folder for one test's files. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'shouwang-config-'));
}

/** Writes `content` (text, or an object as YAML) to `name` in `dir`; returns the path. */
export function writeFile(dir: string, name: string, content: string | object): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : stringify(content));
  return file;
}

/** A small valid non-demo config: one grid, one camera, one SOS button. */
export function minimalConfig(): Record<string, unknown> {
  return {
    site: {
      boxId: 'sw-320602-099',
      name: '测试小区',
      divisionCode: '320602001001',
      kind: 'urban_estate',
      timezone: 'Asia/Shanghai',
    },
    grids: [{ code: '320602001001-01', name: '一网格' }],
    devices: [
      {
        id: 'cam-gate',
        kind: 'onvif_camera',
        name: '北门',
        grid: '320602001001-01',
        place: { point: 'gate' },
        host: '192.168.1.64',
        username: 'onvif',
        password: 'camera-password-1',
      },
      {
        id: 'sos-01',
        kind: 'sos_button',
        name: '一键报警',
        grid: '320602001001-01',
        place: { building: '3栋', unit: '2单元', point: 'entrance' },
        password: 'sos-01-password',
        household: '3栋2单元501',
        linkedCameras: ['cam-gate'],
      },
    ],
  };
}

/** Every `{ env: NAME }` in a config file, with a strong value for each. */
export function envFor(file: string): NodeJS.ProcessEnv {
  const text = fs.readFileSync(file, 'utf8');
  const env: NodeJS.ProcessEnv = {};
  for (const m of text.matchAll(/\{\s*env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}/g)) {
    env[m[1]!] = `${m[1]!.toLowerCase()}-s3cret-value`;
  }
  return env;
}
