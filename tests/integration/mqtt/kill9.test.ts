import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Db } from '../../../gateway/store/db.ts';
import { DB_NAME } from '../../../gateway/store/store.ts';
import { freePort, gwBackground, waitForHttp } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/store.ts';

const t = tempDir('shouwang-mqtt-kill9-');
afterAll(() => t.cleanup());

describe('kill -9 while a device streams QoS 1 events', () => {
  it('stores every event the device saw acknowledged exactly once across crashes and resends', async () => {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const site = join(t.dir, 'site.yaml');
    const grid = '320602001001-01';
    writeFileSync(
      site,
      stringify({
        demo: true,
        site: { boxId: 'sw-320602-011', name: '测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
        grids: [{ code: grid, name: '一网格' }],
        devices: [
          {
            id: 'panel-1',
            kind: 'alarm_panel',
            name: '报警主机',
            grid,
            place: { point: 'perimeter' },
            password: 'panel-1-demo',
            zones: [{ number: 4, name: '东围墙', type: 'perimeter' }],
          },
        ],
        panel: { host: '127.0.0.1', port: httpPort },
        broker: { host: '127.0.0.1', port: mqttPort, connectsPerMinutePerAddress: 1000 },
        // A wide group-commit window: an ack sent before its commit would be lost to the kill almost surely.
        storage: { groupCommit: { maxDelayMs: 20 } },
      }),
    );
    const data = join(t.dir, 'data');
    const startGateway = async () => {
      const g = gwBackground(['start', '--config', site, '--data', data]);
      await waitForHttp(`http://127.0.0.1:${httpPort}/healthz`);
      return g;
    };
    let gateway = await startGateway();

    const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
      protocolVersion: 4,
      clientId: 'panel-1',
      username: 'panel-1',
      password: 'panel-1-demo',
      clean: false,
      reconnectPeriod: 150,
      connectTimeout: 3000,
    });
    client.on('error', () => {});
    const acked = new Set<string>();
    // Killed from inside the PUBACK callback: the gateway dies microseconds after writing an ack,
    // so an ack written before its commit would lose that event.
    let killAt: number | null = null;
    let sent = 0;
    let stop = false;
    const pump = (async () => {
      // up to 100 in flight, unique ids, bounded in count and time
      const deadline = Date.now() + 60_000;
      while (!stop && sent < 20_000 && Date.now() < deadline) {
        if (sent - acked.size >= 100 || !client.connected) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        // Zone alarms: the alarm lane, every commit fsynced.
        const id = `p1-${String(++sent).padStart(6, '0')}`;
        const body = JSON.stringify({ id, type: 'zone', zone: 4, zoneType: 'perimeter', state: sent % 2 ? 'alarm' : 'restore' });
        // mqtt.js fails a publish caught in a reconnect ("Connection closed"): the device sends it again, as a real one would.
        const send = () =>
          client.publish('sw/v1/panel-1/event', body, { qos: 1 }, (err) => {
            if (err) return void (client.disconnecting || client.disconnected || setTimeout(send, 100));
            acked.add(id);
            if (killAt !== null && acked.size >= killAt) {
              killAt = null;
              gateway.child.kill('SIGKILL');
            }
          });
        send();
      }
    })();

    for (let round = 0; round < 3; round++) {
      killAt = acked.size + 300 + Math.floor(Math.random() * 700);
      await gateway.exited;
      gateway = await startGateway();
    }
    const target = acked.size + 300;
    while (acked.size < target) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await pump;
    // let every message still in flight be resent and acknowledged
    const drainUntil = Date.now() + 20_000;
    while (acked.size < sent && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
    expect(acked.size).toBe(sent);
    client.end(true);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);

    const db = await Db.open(join(data, DB_NAME), { readonly: true });
    const rows = await db.all<{ dedupe_key: string; n: number }>(
      `SELECT dedupe_key, COUNT(*) AS n FROM events WHERE device_id = 'panel-1' AND kind = 'zone_alarm' GROUP BY dedupe_key`,
    );
    await db.close();
    const stored = new Map(rows.map((r) => [r.dedupe_key, r.n]));
    const missing = [...acked].filter((id) => !stored.has(id));
    expect(missing, 'acknowledged events missing after kill -9').toEqual([]);
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    expect(acked.size).toBeGreaterThan(1200);
  }, 120_000);
});
