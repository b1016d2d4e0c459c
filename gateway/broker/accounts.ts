import type { SiteConfig } from '../../config/schema.ts';
import type { Secret } from '../../config/schema/secret.ts';
import type { Account } from './credentials.ts';

const credential = (s: Secret) => (s.hash ? { hash: s.hash } : { password: s.reveal() });

/** The MQTT accounts of a site: every MQTT device (user name = device id) and every bridge. */
export function mqttAccounts(config: SiteConfig): Account[] {
  const devices = config.devices.flatMap((d) =>
    'password' in d && d.kind !== 'onvif_camera' ? [{ principal: { kind: 'device' as const, id: d.id }, ...credential(d.password), enabled: d.enabled }] : [],
  );
  const bridges = config.mqttBridges.map((b) => ({
    principal: { kind: 'bridge' as const, id: b.id },
    ...credential(b.password),
    enabled: true,
    bridgeBase: b.baseTopic,
  }));
  return [...devices, ...bridges];
}
