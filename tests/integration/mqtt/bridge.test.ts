import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smallSite, startApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { tempDir } from '../../helpers/store.ts';

let t: ReturnType<typeof tempDir>;
let app: Awaited<ReturnType<typeof startApp>>;

beforeEach(async () => {
  t = tempDir();
  const base = smallSite();
  const grid = base.grids[0]!.code;
  app = await startApp(
    t.dir,
    smallSite({
      mqttBridges: [{ id: 'z2m-hall', profile: 'zigbee2mqtt', baseTopic: 'zigbee2mqtt', password: 'z2m-hall-demo' }],
      devices: [
        ...base.devices.map((d) => ({ ...d, password: `${d.id}-demo` })),
        {
          id: 'hall-smoke',
          kind: 'mqtt_mapped',
          name: '活动室烟感',
          grid,
          place: { point: 'public_area' },
          profile: 'zigbee2mqtt',
          bridge: 'z2m-hall',
          sourceName: 'hall_smoke',
        },
      ],
    }),
  );
});
afterEach(async () => {
  await app.stop();
  t.cleanup();
});

describe('a zigbee2mqtt bridge through the broker', () => {
  it('turns state changes of a mapped device into events, and only changes', async () => {
    const z = await connect(app.mqttUrl, { clientId: 'z2m-hall', username: 'z2m-hall', password: 'z2m-hall-demo' });
    try {
      await publish(z, 'zigbee2mqtt/hall_smoke', JSON.stringify({ smoke: false, battery: 90, battery_low: false, tamper: false }));
      await publish(z, 'zigbee2mqtt/hall_smoke', JSON.stringify({ smoke: true, battery: 90, battery_low: false, tamper: false }));
      await publish(z, 'zigbee2mqtt/hall_smoke', JSON.stringify({ smoke: true, battery: 89, battery_low: false, tamper: false }));
      await publish(z, 'zigbee2mqtt/hall_smoke', JSON.stringify({ smoke: false, battery: 89, battery_low: false, tamper: false }));
      const smoke = await app.store.events.read({ kinds: ['smoke'], deviceIds: ['hall-smoke'] });
      expect(smoke.map((e) => e.active)).toEqual([true, false]);
      expect(smoke[0]!.grid).toBe('320602001001-01'); // enriched from the mapped device's entry
      // a bridge cannot speak for a Shouwang device
      await publish(z, 'zigbee2mqtt/unknown_thing', '{"smoke":true}');
      expect((await app.store.rejects.recent(5, 'z2m-hall'))[0]?.reason).toMatch(/unknown_thing/);
    } finally {
      z.end(true);
    }
  });
});
