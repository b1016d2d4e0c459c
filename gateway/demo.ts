import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SiteConfig } from '../config/schema.ts';
import { loadScenarioFile, runScenario, specsFromSite, startMqttDevices, type SimEstate } from '../simulators/mqtt-devices/index.ts';
import type { App } from './app.ts';
import { CountyReceiver } from '../simulators/county-platform/receiver.ts';
import { Puller } from '../simulators/county-platform/puller.ts';

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
  const county = await startDemoCounty(app, config, log);
  const abort = new AbortController();
  runScenario(estate, await loadScenarioFile(SCENARIO), { signal: abort.signal, log: (line) => log.info(`demo scenario: ${line}`) }).catch((err: Error) => {
    if (!abort.signal.aborted) log.warn({ err }, 'demo scenario stopped');
  });
  return {
    async stop() {
      abort.abort();
      await estate.stop();
      await county.stop();
    },
  };
}

/**
 * The county platform of the demo: the simulator receiving the box's pushes on 127.0.0.1:18600 (the demo
 * site's upstream.county.url) and pulling its county API with write-back (交办 on each new alarm).
 */
async function startDemoCounty(app: App, config: SiteConfig, log: Logger): Promise<{ stop(): Promise<void> }> {
  const url = config.upstream.county?.url;
  const port = url ? Number(new URL(url).port) : 0;
  const receiver = url ? new CountyReceiver({ host: '127.0.0.1', port, tokens: ['demo-county-token'], log: (line) => log.debug(line) }) : null;
  try {
    await receiver?.start();
  } catch (err) {
    log.warn({ err, port }, 'demo: the county simulator could not listen (port taken?); pushes will back off and wait');
  }
  const puller = config.countyApi.enabled
    ? new Puller({ base: app.http.url, token: 'demo-county-token', writeBack: true, log: (line) => log.debug(`county puller: ${line}`) })
    : null;
  puller?.start();
  if (receiver) log.info({ ingest: receiver.url, accounting: `${receiver.base}/accounting` }, 'demo: county platform simulator receiving pushes');
  return {
    async stop() {
      await puller?.stop();
      await receiver?.stop();
      if (receiver) log.info(receiver.accounting.summary());
    },
  };
}
