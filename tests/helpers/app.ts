import { parseConfig } from '../../config/load.ts';
import type { SiteConfig } from '../../config/schema.ts';
import { App, type AppOptions } from '../../gateway/app.ts';
import { silentLog } from './store.ts';

/** A small demo site on loopback: one panel, two doors, one SOS button; extra top-level keys merge in. */
export function smallSite(extra: Record<string, unknown> = {}): SiteConfig {
  const grid = '320602001001-01';
  const base = { grid, place: { point: 'entrance' } };
  const r = parseConfig({
    demo: true,
    site: { boxId: 'sw-320602-010', name: '测试小区', divisionCode: '320602001001', kind: 'urban_estate' },
    grids: [{ code: grid, name: '一网格' }],
    devices: [
      { id: 'panel-1', kind: 'alarm_panel', name: '1号报警主机', ...base, password: 'panel-1-demo', zones: [{ number: 4, name: '东围墙', type: 'perimeter' }] },
      { id: 'door-1', kind: 'access_controller', name: '1栋1单元门', ...base, password: 'door-1-demo', door: { name: '1栋1单元' } },
      { id: 'door-2', kind: 'access_controller', name: '1栋2单元门', ...base, password: 'door-2-demo', door: { name: '1栋2单元' } },
      { id: 'sos-1', kind: 'sos_button', name: '501户一键报警', ...base, password: 'sos-1-demo', household: '1栋1单元501' },
    ],
    panel: { host: '127.0.0.1', port: 8080 },
    broker: { host: '127.0.0.1', port: 1883 },
    ...extra,
  });
  if (!r.ok) throw new Error(`test site invalid: ${JSON.stringify(r.problems)}`);
  return r.config;
}

export async function startApp(dataDir: string, config = smallSite(), over: Partial<AppOptions> = {}): Promise<App & { mqttUrl: string }> {
  const app = new App({ config, dataDir, log: silentLog, version: 'test', httpPort: 0, brokerPort: 0, ...over });
  await app.start();
  return Object.assign(app, { mqttUrl: `mqtt://127.0.0.1:${app.broker.addresses[0]!.port}` });
}
