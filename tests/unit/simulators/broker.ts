/** A bare aedes broker on a random 127.0.0.1 port, recording what devices did (no gateway code). */
import net from 'node:net';
import { Aedes } from 'aedes';

export interface SeenConnect {
  clientId: string;
  username: string | undefined;
  password: string | undefined;
  keepalive: number;
  clean: boolean;
  protocolVersion: number;
  will: { topic: string; payload: string; qos: number; retain: boolean } | undefined;
}

export interface SeenPublish {
  at: number;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  /** The client the publish came from (aedes gives the dying client for its will); null for the broker's own. */
  clientId: string | null;
}

export interface TestBroker {
  url: string;
  port: number;
  connects: SeenConnect[];
  published: SeenPublish[];
  /** Publishes from the broker (as the box would send a command). */
  publish(topic: string, payload: string, qos?: 0 | 1): Promise<void>;
  /** Waits until `pred` holds for some publish at index ≥ `from` (polling), returns it. */
  waitFor(pred: (p: SeenPublish) => boolean, timeoutMs?: number, from?: number): Promise<SeenPublish>;
  close(): Promise<void>;
}

export async function startTestBroker(opts: { passwords?: Record<string, string> } = {}): Promise<TestBroker> {
  const connects: SeenConnect[] = [];
  const published: SeenPublish[] = [];
  const broker = await Aedes.createBroker({
    preConnect(client, packet, done) {
      connects.push({
        clientId: packet.clientId,
        username: packet.username,
        password: packet.password?.toString(),
        keepalive: packet.keepalive ?? -1,
        clean: packet.clean ?? true,
        protocolVersion: packet.protocolVersion ?? 0,
        will: packet.will
          ? { topic: packet.will.topic, payload: Buffer.from(packet.will.payload).toString(), qos: packet.will.qos ?? 0, retain: packet.will.retain ?? false }
          : undefined,
      });
      void client;
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const expected = opts.passwords?.[client.id];
      const ok = username === client.id && (expected === undefined || password?.toString() === expected);
      if (ok) return done(null, true);
      const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
      done(err, null);
    },
  });
  broker.on('publish', (packet, client) => {
    if (packet.topic.startsWith('$SYS')) return;
    published.push({
      at: performance.now(),
      topic: packet.topic,
      payload: Buffer.from(packet.payload).toString(),
      qos: packet.qos,
      retain: packet.retain,
      clientId: client ? client.id : null,
    });
  });
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    connects,
    published,
    publish: (topic, payload, qos = 1) =>
      new Promise<void>((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
      ),
    async waitFor(pred, timeoutMs = 3000, from = 0) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = published.slice(from).find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error('waitFor: no matching publish');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
        // connections the devices did not close would keep server.close waiting
        setTimeout(resolve, 1000).unref();
      }),
  };
}
