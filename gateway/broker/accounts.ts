import type { SiteConfig } from '../../config/schema.ts';
import type { Principal } from '../core/mqtt.ts';

/** The MQTT accounts of a site: every MQTT device (user name = device id) and every bridge. */
export function mqttAccounts(config: SiteConfig): { principal: Principal; password: string; enabled: boolean; bridgeBase?: string }[] {
  const devices = config.devices.flatMap((d) =>
    'password' in d && d.kind !== 'onvif_camera'
      ? [{ principal: { kind: 'device' as const, id: d.id }, password: d.password.reveal(), enabled: d.enabled }]
      : [],
  );
  const bridges = config.mqttBridges.map((b) => ({
    principal: { kind: 'bridge' as const, id: b.id },
    password: b.password.reveal(),
    enabled: true,
    bridgeBase: b.baseTopic,
  }));
  return [...devices, ...bridges];
}
