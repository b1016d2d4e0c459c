import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Db } from '../../../gateway/store/db.ts';
import { DB_NAME } from '../../../gateway/store/store.ts';
import { CountyReceiver } from '../../../simulators/county-platform/index.ts';
import { freePort, gwBackground, waitForHttp } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/store.ts';

const t = tempDir('shouwang-bridge-kill9-');
afterAll(() => t.cleanup());

describe('kill -9 while a batch is in flight to the county', () => {
  it('leaves no gap; the only duplicates are entries of batches whose ack died with the gateway, and the county drops them by id', async () => {
    const TOKEN = 'county-kill9-token';
    let gateway: ReturnType<typeof gwBackground>;
    let killAtBatch: number | null = null;
    let batches = 0;
    const lostAckIds = new Set<string>();
    const duplicateIds: string[] = [];
    const accepted = new Set<string>();
    const county = await new CountyReceiver({
      tokens: [TOKEN],
      // Runs after the batch is processed and before the answer is written: killing here loses the ack.
      onBatch: ({ result }) => {
        batches++;
        duplicateIds.push(...result.duplicateIds);
        for (const id of result.accepted) accepted.add(id);
        if (killAtBatch !== null && batches >= killAtBatch) {
          killAtBatch = null;
          for (const id of result.accepted) lostAckIds.add(id);
          gateway.child.kill('SIGKILL');
        }
      },
    }).start();

    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const site = join(t.dir, 'site.yaml');
    const grid = '320602001001-01';
    writeFileSync(
      site,
      stringify({
        demo: true,
        site: { boxId: 'sw-320602-012', name: '测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
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
        upstream: { county: { url: county.url, auth: { type: 'bearer', token: TOKEN }, batchSize: 25, heartbeatSeconds: 3600 } },
        panel: { host: '127.0.0.1', port: httpPort },
        broker: { host: '127.0.0.1', port: mqttPort, connectsPerMinutePerAddress: 1000 },
      }),
    );
    const data = join(t.dir, 'data');
    const startGateway = async () => {
      const g = gwBackground(['start', '--config', site, '--data', data]);
      await waitForHttp(`http://127.0.0.1:${httpPort}/healthz`);
      return g;
    };
    gateway = await startGateway();

    const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
      protocolVersion: 4,
      clientId: 'panel-1',
      username: 'panel-1',
      password: 'panel-1-demo',
      clean: false,
      reconnectPeriod: 150,
    });
    client.on('error', () => {});
    // mqtt.js resends its in-flight publishes after a reconnect; a new publish in that moment can take the message id
    // of one being resent and make it vanish, so the device waits a moment after each reconnect.
    let connectedAt = 0;
    client.on('connect', () => (connectedAt = Date.now()));
    let sent = 0;
    const acked = new Set<string>();
    const retry: string[] = []; // mqtt.js fails a publish caught in a reconnect: the device sends it again, as a real one would
    let stop = false;
    const publishOne = (id: string, n: number) =>
      client.publish(
        'sw/v1/panel-1/event',
        JSON.stringify({ id, type: 'zone', zone: 4, zoneType: 'perimeter', state: n % 2 ? 'alarm' : 'restore' }),
        { qos: 1 },
        (err) => {
          if (err) retry.push(id);
          else acked.add(id);
        },
      );
    const pump = (async () => {
      const deadline = Date.now() + 60_000;
      while (!stop && sent < 5000 && Date.now() < deadline) {
        if (sent - acked.size - retry.length >= 20 || !client.connected || Date.now() - connectedAt < 500) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const again = retry.shift();
        if (again) {
          publishOne(again, Number(again.slice(3)));
          continue;
        }
        const id = `p1-${String(++sent).padStart(5, '0')}`;
        publishOne(id, sent);
        if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 10)); // a steady stream, so batches keep going out
      }
    })();

    for (let round = 0; round < 3; round++) {
      killAtBatch = batches + 5 + Math.floor(Math.random() * 20);
      await gateway.exited;
      gateway = await startGateway();
    }
    const target = acked.size + 200;
    while (acked.size < target) await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await pump;
    const drainUntil = Date.now() + 20_000;
    while (acked.size < sent && Date.now() < drainUntil) {
      const again = client.connected ? retry.shift() : undefined;
      if (again) publishOne(again, Number(again.slice(3)));
      await new Promise((r) => setTimeout(r, 20));
    }
    client.end(true);

    // Let the box deliver everything, then stop it cleanly and compare with its database.
    const dbFile = join(data, DB_NAME);
    const outboxLeft = async () => {
      const db = await Db.open(dbFile, { readonly: true });
      const r = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox');
      await db.close();
      return r!.n;
    };
    const until = Date.now() + 30_000;
    while ((await outboxLeft()) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    const db = await Db.open(dbFile, { readonly: true });
    const events = await db.all<{ id: string; k: string }>(`SELECT id, dedupe_key AS k FROM events WHERE kind = 'zone_alarm'`);
    const storedKeys = new Set(events.map((e) => e.k));
    const lastSeq = (await db.get<{ value: number }>(`SELECT value FROM meta WHERE key = 'seq.outbox'`))!.value;
    const left = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))!.n;
    const dead = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM dead_letter'))!.n;
    await db.close();
    await county.stop();

    expect(acked.size).toBe(sent);
    expect([...acked].filter((id) => !storedKeys.has(id))).toEqual([]); // every event the device saw acknowledged is in the box
    // Stopping may enqueue a last change (detection writes what it held back) after the push has stopped: it waits
    // for the next start, at the tail of the sequence, never in the middle.
    expect(left).toBeLessThanOrEqual(3);
    expect(dead).toBe(0);
    const b = county.accounting.report().boxes[0]!;
    expect(b.gaps).toBe(0);
    expect(b.seqConflicts).toBe(0);
    expect(b.firstSeq).toBe(1);
    expect(b.highestContiguousSeq).toBe(lastSeq - left); // everything the box enqueued before it stopped reached the county
    expect(events.filter((e) => !accepted.has(e.id))).toEqual([]);
    expect(duplicateIds.length).toBeGreaterThan(0);
    expect(duplicateIds.filter((id) => !lostAckIds.has(id))).toEqual([]); // a duplicate only where an ack was lost
    expect(b.duplicates).toBe(duplicateIds.length);
  }, 150_000);
});
