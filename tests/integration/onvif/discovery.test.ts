import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '../../../device-drivers/onvif/discovery.ts';
import { startCameras, type CameraFarm } from '../../../simulators/onvif-camera/index.ts';
import { tempDir } from '../../helpers/store.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

describe('WS-Discovery, unicast on loopback', { timeout: 20_000 }, () => {
  let farm: CameraFarm;
  beforeAll(async () => {
    farm = await startCameras({
      cameras: [
        { id: 'cam-a', port: 0, username: 'admin', password: 'pw', name: '北门入口', location: 'gate' },
        { id: 'cam-b', port: 0, username: 'admin', password: 'pw', flavour: 'hikvision', ptz: true },
        { id: 'cam-c', port: 0, username: 'admin', password: 'pw', flavour: 'dahua' },
      ],
      discovery: { port: 0, bind: '127.0.0.1' },
    });
  });
  afterAll(() => farm.stop());

  it('finds every camera that answers a unicast probe, once each, with its device service and scopes', async () => {
    const found = await discover({ targets: [`127.0.0.1:${farm.discovery!.port}`], timeoutMs: 800 });
    expect(found.map((f) => f.port).sort()).toEqual(farm.cameras.map((c) => c.port).sort());
    const a = found.find((f) => f.port === farm.camera('cam-a').port)!;
    expect(a).toMatchObject({
      urn: farm.camera('cam-a').urn,
      host: '127.0.0.1',
      address: '127.0.0.1',
      xaddrs: [`http://127.0.0.1:${a.port}/onvif/device_service`],
      name: '北门入口',
      location: 'gate',
      profiles: ['Streaming'],
      types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
    });
    expect(found.find((f) => f.port === farm.camera('cam-b').port)!.hardware).toBe('DS-2CD2T47G2-L');
    expect(farm.discovery!.probes).toBeGreaterThanOrEqual(2); // probed twice (UDP may drop one), answers deduplicated
  });

  it('returns an empty list when nothing answers, and refuses a malformed target', async () => {
    expect(await discover({ targets: ['127.0.0.1:9'], timeoutMs: 300 })).toEqual([]);
    await expect(discover({ targets: ['camera.local'] })).rejects.toThrow(/not an IPv4 address/);
  });
});

/** Multicast discovery between two network namespaces joined by a veth pair: no multicast ever leaves them. */
function netnsAvailable(): string | null {
  const probe = `swprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `ip netns add is not permitted here (${((err as { stderr?: Buffer }).stderr?.toString() ?? String(err)).trim()})`;
  }
}

const unavailable = netnsAvailable();

describe.skipIf(unavailable !== null)(
  `WS-Discovery by multicast inside network namespaces${unavailable ? ` — skipped: ${unavailable}` : ''}`,
  { timeout: 60_000 },
  () => {
    const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
    const nsCam = `swcam${tag}`;
    const nsBox = `swbox${tag}`;
    const net = 100 + (process.pid % 150);
    const camIp = `10.${net}.77.1`;
    const boxIp = `10.${net}.77.2`;
    const t = tempDir('shouwang-netns-');
    let sim: ChildProcess | null = null;
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

    beforeAll(async () => {
      ip('netns', 'add', nsCam);
      ip('netns', 'add', nsBox);
      ip('link', 'add', `vc${tag}`, 'type', 'veth', 'peer', 'name', `vb${tag}`);
      ip('link', 'set', `vc${tag}`, 'netns', nsCam);
      ip('link', 'set', `vb${tag}`, 'netns', nsBox);
      for (const [ns, dev, addr] of [
        [nsCam, `vc${tag}`, camIp],
        [nsBox, `vb${tag}`, boxIp],
      ] as const) {
        ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
        ip('-n', ns, 'link', 'set', dev, 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
      }
      const site = join(t.dir, 'site.yaml');
      writeFileSync(
        site,
        [
          'demo: true',
          'site: { boxId: sw-320602-012, name: 组播测试, divisionCode: "320602001001", kind: urban_estate }',
          'grids: [{ code: "320602001001-01", name: 一网格 }]',
          'panel: { host: 127.0.0.1 }',
          'broker: { host: 127.0.0.1 }',
          'devices:',
          ...[1, 2, 3].map(
            (i) =>
              `  - { id: cam-${i}, kind: onvif_camera, name: 监控点${i}, grid: "320602001001-01", place: { point: perimeter }, host: ${camIp}, port: ${8000 + i}, username: admin, password: pw-${i} }`,
          ),
        ].join('\n'),
      );
      sim = spawn(
        'ip',
        [
          'netns',
          'exec',
          nsCam,
          TSX,
          'simulators/run.ts',
          'cameras',
          '--config',
          site,
          '--host',
          camIp,
          '--discovery-port',
          '3702',
          '--discovery-multicast',
          camIp,
          '--traffic',
          'none',
          '--json',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the simulator in the namespace did not get ready in 30 s')), 30_000);
        createInterface({ input: sim!.stdout! }).on('line', (line) => {
          if (line.includes('"ready":true')) {
            clearTimeout(timer);
            resolve();
          }
        });
        sim!.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
      });
    });

    afterAll(async () => {
      if (sim && sim.exitCode === null) {
        sim.kill('SIGTERM');
        await new Promise((r) => sim!.once('exit', r));
      }
      for (const ns of [nsCam, nsBox]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // already gone
        }
      }
      t.cleanup();
    });

    it('finds every camera of the other namespace with a multicast probe from the box’s interface', async () => {
      const script = join(t.dir, 'discover.mts'); // an ES module outside the project
      writeFileSync(
        script,
        `import { discover } from ${JSON.stringify(join(ROOT, 'device-drivers/onvif/index.ts'))};\n` +
          `const found = await discover({ multicast: true, bindAddress: ${JSON.stringify(boxIp)}, timeoutMs: 1500 });\n` +
          'process.stdout.write(JSON.stringify(found));\n',
      );
      const out = execFileSync('ip', ['netns', 'exec', nsBox, TSX, script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      const found = JSON.parse(out) as { host: string; port: number; name: string; address: string }[];
      expect(found.map((f) => [f.host, f.port, f.name, f.address])).toEqual([1, 2, 3].map((i) => [camIp, 8000 + i, `监控点${i}`, camIp]));
    });
  },
);
