import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../../config/load.ts';
import { App } from '../../../gateway/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { silentLog, tempDir } from '../../helpers/store.ts';

let t: ReturnType<typeof tempDir> | null = null;
let app: App | null = null;
afterEach(async () => {
  await app?.stop();
  app = null;
  t?.cleanup();
});

describe('device passwords hashed at rest', () => {
  it('a site file holding only `gw hash-secret` output authenticates the device, and holds no password', async () => {
    t = tempDir();
    const password = 'k9-Vq2x-door-of-block-3';
    const hashLine = execFileSync(process.execPath, ['--import', 'tsx', 'gateway/main.ts', 'hash-secret'], { input: `${password}\n` })
      .toString()
      .trim();
    const hashed = parse(hashLine) as { scrypt: string };
    expect(hashed.scrypt).toMatch(/^scrypt\$4096\$8\$1\$/);
    const grid = '320602001001-01';
    const file = join(t.dir, 'site.yaml');
    writeFileSync(
      file,
      `site: { boxId: sw-320602-012, name: 测试小区, divisionCode: "320602001001", kind: urban_estate }
grids: [{ code: "${grid}", name: 一网格 }]
devices:
  - { id: door-3, kind: access_controller, name: 3栋门, grid: "${grid}", place: { point: entrance }, door: { name: 3栋 }, password: ${hashLine} }
panel: { host: 127.0.0.1, port: 18080 }
broker: { host: 127.0.0.1 }
`,
    );
    expect(readFileSync(file, 'utf8')).not.toContain(password);
    const r = await loadConfigFile(file);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    app = new App({ config: r.config, dataDir: join(t.dir, 'data'), log: silentLog, version: 'test', httpPort: 0, brokerPort: 0 });
    await app.start();
    const url = `mqtt://127.0.0.1:${app.broker.addresses[0]!.port}`;
    const door = await connect(url, { clientId: 'door-3', username: 'door-3', password });
    await publish(door, 'sw/v1/door-3/event', '{"id":"h1","type":"door","state":"forced"}');
    door.end(true);
    expect(await app.store.events.read({ kinds: ['door_forced'] })).toHaveLength(1);
    await expect(connect(url, { clientId: 'door-3', username: 'door-3', password: 'wrong-one-entirely' })).rejects.toMatchObject({ code: 4 });
  });

  it('refuses a malformed hash with its path', async () => {
    t = tempDir();
    const file = join(t.dir, 'site.yaml');
    writeFileSync(
      file,
      `site: { boxId: sw-320602-013, name: x, divisionCode: "320602001001", kind: urban_estate }
grids: [{ code: g1, name: 一 }]
devices:
  - { id: door-3, kind: access_controller, name: 门, grid: g1, place: { point: entrance }, door: { name: 门 }, password: { scrypt: "md5$abc" } }
`,
    );
    const r = await loadConfigFile(file);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems.map((p) => `${p.path}: ${p.message}`)).toContain(
        'devices[0].password: not a scrypt hash as `npm run gw -- hash-secret` prints it (scrypt$N$r$p$salt$hash)',
      );
  });
});
