/**
 * bad-input: garbage from every side while honest devices keep reporting.
 * Random bytes on the MQTT port, a CONNECT that claims a 256 MB packet,
 * giant payloads, topics hundreds of levels deep, malformed and hostile JSON
 * from an authenticated device. Everything is refused with a reason a person
 * can read, the box stays up, and every neighbour's event is stored.
 */
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import {
  access,
  check,
  connectAll,
  Device,
  doors,
  freePort,
  health,
  lossReport,
  offer,
  sampler,
  settle,
  sleep,
  startGateway,
  tempDir,
  withDb,
  writeSite,
  round1,
  type Drill,
} from './_harness.ts';

/** Open a raw TCP connection, write `bytes`, and close it after a moment (or when the box hangs up). */
function rawWrite(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    const done = () => {
      s.destroy();
      resolve();
    };
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => s.write(bytes, () => setTimeout(done, 200)));
    setTimeout(done, 5000);
  });
}

/** An MQTT CONNECT header claiming a 256 MB remaining length, followed by junk. */
const HUGE_CONNECT = Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), randomBytes(4096)]);

export const drill: Drill = {
  summary: 'random bytes, giant payloads, deep topics, hostile JSON: all refused with reasons, neighbours stored',
  async run({ quick, say }) {
    const t = tempDir('shouwang-drill-badinput-');
    try {
      const [httpPort, mqttPort] = [await freePort(), await freePort()];
      const specs = doors(6); // door-0005 is the one that misbehaves
      const site = writeSite(t.dir, { devices: specs, httpPort, mqttPort });
      const data = join(t.dir, 'data');
      const gw = await startGateway(site, data, httpPort);
      const cpu = sampler(gw.pid, 500);
      const url = `mqtt://127.0.0.1:${mqttPort}`;
      const neighbours = specs.slice(0, 5).map((s) => new Device(s.id, url));
      await connectAll(neighbours);
      const seconds = quick ? 8 : 30;
      const load = offer(neighbours, 200, seconds, () => access);

      let healthy = true;
      const watch = setInterval(() => void health(httpPort).then((h) => (healthy &&= h.ok)), 500);

      // 1. Noise on the MQTT port from strangers.
      const garbage = quick ? 50 : 300;
      await Promise.all(Array.from({ length: garbage }, () => rawWrite(mqttPort, randomBytes(1 + Math.floor(Math.random() * 16384)))));
      await Promise.all(Array.from({ length: 10 }, () => rawWrite(mqttPort, HUGE_CONNECT)));
      say(`${garbage} random-byte connections and 10 oversized CONNECTs sent`);

      // 2. An authenticated device that sends everything wrong.
      const bad = new Device('door-0005', url, { reconnectPeriod: 300 });
      await bad.connect();
      const hostile: [string, string | Buffer][] = [
        ['not json', '{"id": "x1", "type": '],
        ['wrong shape', JSON.stringify({ id: 'x2', type: 'access', result: 'maybe', method: 'card' })],
        ['unknown type', JSON.stringify({ id: 'x3', type: 'teleport' })],
        ['not an object', '[1,2,3]'],
        ['invalid utf-8', Buffer.from([0x7b, 0xff, 0xfe, 0xfd, 0x7d])],
        ['deep nesting', '['.repeat(20_000) + ']'.repeat(20_000)],
        ['huge number', `{"id":"x4","type":"access","result":"granted","method":"card","credential":${'9'.repeat(5000)}}`],
      ];
      for (const [, payload] of hostile) bad.client!.publish('sw/v1/door-0005/event', payload, { qos: 1 });
      bad.client!.publish(`sw/v1/door-0005/${'a/'.repeat(500)}event`, JSON.stringify(access('x5')), { qos: 1 });
      // Last: a payload far over the limit, which costs the device its connection.
      bad.client!.publish('sw/v1/door-0005/event', Buffer.alloc(4 * 1024 * 1024, 0x41), { qos: 1 });
      say('hostile payloads sent by an authenticated device');

      const offered = await load;
      const settled = await settle(neighbours, 20_000);
      clearInterval(watch);
      cpu.stop();
      await Promise.all([...neighbours, bad].map((d) => d.end()));
      const alive = gw.child.exitCode === null;
      const code = await gw.stop();
      const loss = await lossReport(neighbours, data);
      const rejects = await withDb(data, (db) => db.all<{ reason: string }>(`SELECT reason FROM rejects WHERE device_id = 'door-0005'`));
      const log = gw.output();
      const namedInLog = /payload|too large|frame|refus/i.test(log);
      await sleep(0);
      return {
        figures: {
          garbage_connections: garbage + 10,
          hostile_payloads: hostile.length + 2,
          rejects_stored: rejects.length,
          neighbours_offered: offered,
          neighbours_acked: loss.acked,
          neighbours_lost: loss.lost,
          peak_rss_mb: round1(cpu.peakRssMb()),
        },
        checks: [
          check('the box stayed up and answered /healthz throughout', alive && healthy),
          check('every neighbour event acknowledged is stored', settled && loss.lost === 0 && loss.acked > 0, `${loss.acked} acked, ${loss.lost} lost`),
          check(
            'each hostile JSON payload is kept as a reject with a reason',
            rejects.length >= hostile.length && rejects.every((r) => r.reason.length > 10),
            rejects.map((r) => r.reason.slice(0, 60)).join(' | '),
          ),
          check('the oversized traffic is named in the log', namedInLog),
          check('the gateway stopped cleanly', code === 0, `exit ${code}`),
        ],
      };
    } finally {
      t.cleanup();
    }
  },
};
