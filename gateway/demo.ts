import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SiteConfig } from '../config/schema.ts';
import { loadScenarioFile, runScenario, specsFromSite, startMqttDevices, type SimEstate } from '../simulators/mqtt-devices/index.ts';
import type { App } from './app.ts';

const SCENARIO = fileURLToPath(new URL('../simulators/mqtt-devices/scenarios/demo-night-intrusion.yaml', import.meta.url));

/**
 * The demo estate around a running gateway: the site's MQTT devices as
 * simulators on loopback (realistic traffic plus a one-minute night
 * scenario). The simulators speak MQTT to the gateway's broker like real
 * devices; nothing here reaches into the gateway.
 */
export async function startDemoEstate(app: App, config: SiteConfig, log: Logger): Promise<{ stop(): Promise<void> }> {
  const port = app.broker.addresses.find((a) => !a.tls)!.port;
  const estate: SimEstate = await startMqttDevices({
    brokerUrl: `mqtt://127.0.0.1:${port}`,
    devices: specsFromSite(config),
    traffic: 'realistic',
    log: (line) => log.debug(line),
  });
  log.info({ devices: estate.devices.length }, 'demo: simulated MQTT devices connected (panels, doors, SOS buttons, sensors, siren, loudspeaker)');
  const abort = new AbortController();
  runScenario(estate, await loadScenarioFile(SCENARIO), { signal: abort.signal, log: (line) => log.info(`demo scenario: ${line}`) }).catch((err: Error) => {
    if (!abort.signal.aborted) log.warn({ err }, 'demo scenario stopped');
  });
  return {
    async stop() {
      abort.abort();
      await estate.stop();
    },
  };
}
