import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttTransport } from '../../../cloud-bridge/push/mqtt.ts';
import type { Pusher } from '../../../cloud-bridge/push/pusher.ts';
import type { Store } from '../../../gateway/store/store.ts';
import { Accounting } from '../../../simulators/county-platform/accounting.ts';
import { MqttCountyReceiver } from '../../../simulators/county-platform/mqtt-receiver.ts';
import { smallSite, startApp } from '../../helpers/app.ts';
import { openStore, tempDir } from '../../helpers/store.ts';
import { fill, mixedEntries, outboxEmpty, pusher, quietLog, waitFor } from './helpers.ts';
import { MOSQUITTO, startMosquitto, type Mosquitto } from './mosquitto.ts';

const BOX = 'sw-320602-010';
const TOKEN = 'box-mqtt-token-01';
const ACL = `user ${BOX}
topic write county/v1/${BOX}/up
topic read county/v1/${BOX}/ack

user county-platform
topic read county/v1/+/up
topic write county/v1/+/ack
`;

if (!MOSQUITTO) {
  // Said once, plainly, instead of passing silently.
  console.warn("SKIPPED: MQTT upstream tests need Debian's mosquitto broker (apt-get install -y mosquitto); /usr/sbin/mosquitto not found");
}

describe.skipIf(!MOSQUITTO)('MQTT upstream through a real mosquitto', () => {
  const t = tempDir('shouwang-mqtt-up-');
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto(t.dir, { [BOX]: TOKEN, 'county-platform': 'county-platform-pw' }, ACL);
  });
  afterAll(async () => {
    await broker?.stop();
    t.cleanup();
  });

  let n = 0;
  async function setup(mode: ConstructorParameters<typeof MqttCountyReceiver>[0]['mode'] = 'healthy', token = TOKEN) {
    const d = tempDir('shouwang-mqtt-up-store-');
    const store: Store = await openStore(d.dir);
    const accounting = new Accounting();
    const county = await new MqttCountyReceiver({
      url: broker.url,
      username: 'county-platform',
      password: 'county-platform-pw',
      mode,
      accounting,
      lostShare: 0.5,
      seed: ++n,
    }).start();
    const transport = new MqttTransport({ url: broker.url, boxId: BOX, password: token, topicPrefix: 'county/v1', ackTimeoutMs: 800, log: quietLog });
    const p: Pusher = pusher(store, transport, { boxId: BOX, backoff: { baseMs: 50, capMs: 200 } });
    return {
      store,
      county,
      accounting,
      p,
      async close() {
        await p.stop();
        await county.stop();
        await store.close();
        d.cleanup();
      },
    };
  }

  it('delivers a backlog as QoS 1 batches acked by the platform on the ack topic: no gap, alarms first', async () => {
    const s = await setup();
    try {
      await fill(s.store, mixedEntries(300));
      await s.p.start();
      await waitFor(() => outboxEmpty(s.store), 'the backlog to drain over MQTT');
      const b = s.accounting.report().boxes[0]!;
      expect(b).toMatchObject({ boxId: BOX, received: 300, duplicates: 0, gaps: 0, highestContiguousSeq: 300 });
      expect(b.byLane.alarm!.lastArrival).toBeLessThan(b.byLane.record!.firstArrival!);
    } finally {
      await s.close();
    }
  });

  it('keeps entries while the platform is away (the broker up, nobody acking), and delivers them once it is back', async () => {
    const s = await setup('down');
    try {
      await fill(s.store, mixedEntries(120));
      await s.p.start();
      await waitFor(() => s.p.stats().failures >= 2, 'ack timeouts while the platform is away');
      expect(s.p.stats().lastError).toMatch(/no ack from the county platform within 800 ms/);
      expect((await s.store.outbox.depth()).reduce((x, d) => x + d.depth, 0)).toBe(120);
      await s.county.setMode('healthy');
      await waitFor(() => outboxEmpty(s.store), 'delivery once the platform is back');
      expect(s.accounting.report().boxes[0]).toMatchObject({ received: 120, gaps: 0 });
    } finally {
      await s.close();
    }
  });

  it('sends again what the platform processed without acking; the platform drops the duplicates by id', async () => {
    const s = await setup('lost-acks');
    try {
      await fill(s.store, mixedEntries(200));
      await s.p.start();
      await waitFor(() => outboxEmpty(s.store), 'everything acked at last', 30_000);
      const b = s.accounting.report().boxes[0]!;
      expect(b).toMatchObject({ received: 200, gaps: 0, seqConflicts: 0 });
      expect(b.duplicates).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  }, 40_000);

  it('is refused by the broker with a wrong token, and says so without touching the entries', async () => {
    const s = await setup('healthy', 'not-the-token');
    try {
      await fill(s.store, mixedEntries(5));
      await s.p.start();
      await waitFor(() => s.p.stats().failures >= 1, 'a refused send');
      expect(s.p.stats().lastError).toMatch(/not connected to the county broker .*(Not authorized|Bad username or password)/i);
      expect(await s.store.outbox.deadLetters()).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('is what the gateway uses when upstream.county.url is mqtt://', async () => {
    const d = tempDir('shouwang-mqtt-up-app-');
    const accounting = new Accounting();
    const county = await new MqttCountyReceiver({ url: broker.url, username: 'county-platform', password: 'county-platform-pw', accounting }).start();
    const app = await startApp(
      d.dir,
      smallSite({ upstream: { county: { url: broker.url, auth: { type: 'bearer', token: TOKEN }, mqtt: { ackTimeoutMs: 1000 } } } }),
    );
    try {
      await waitFor(() => (accounting.report().boxes[0]?.byType['box.heartbeat'] ?? 0) > 0, 'the heartbeat over MQTT');
      expect(accounting.report().boxes[0]).toMatchObject({ boxId: BOX, gaps: 0 });
    } finally {
      await app.stop();
      await county.stop();
      d.cleanup();
    }
  });
});
