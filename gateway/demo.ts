import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SiteConfig } from '../config/schema.ts';
import { loadScenarioFile, runScenario, specsFromSite, startMqttDevices, type SimEstate } from '../simulators/mqtt-devices/index.ts';
import type { App } from './app.ts';
import { CountyReceiver } from '../simulators/county-platform/receiver.ts';
import { Puller } from '../simulators/county-platform/puller.ts';
import { cameraSpecsFromSite, startCameras, startTraffic } from '../simulators/onvif-camera/index.ts';

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
  const cameras = await startDemoCameras(config, log);
  const abort = new AbortController();
  runScenario(estate, await loadScenarioFile(SCENARIO), { signal: abort.signal, log: (line) => log.info(`demo scenario: ${line}`) }).catch((err: Error) => {
    if (!abort.signal.aborted) log.warn({ err }, 'demo scenario stopped');
  });
  // The panel (issue 7): where to open it and, on a fresh data folder, the one-time link that creates the first account.
  log.info(
    { panel: app.http.url, ...(app.setupLink ? { setupLink: app.setupLink.url } : {}) },
    app.setupLink ? 'demo: open the setup link to create the first panel account (a manager), then sign in' : 'demo: the panel',
  );
  return {
    async stop() {
      abort.abort();
      // The camera driver first, so it unsubscribes from cameras that are still there.
      await app.onvif.stop();
      await cameras?.stop();
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

/**
 * The site's ONVIF cameras as simulators on their configured loopback ports (payloads in the standard,
 * Hikvision and Dahua styles in turn), motion now and then, WS-Discovery answers on 127.0.0.1:3702.
 */
async function startDemoCameras(config: SiteConfig, log: Logger): Promise<{ stop(): Promise<void> } | null> {
  const specs = cameraSpecsFromSite(config, { flavour: 'mixed' });
  if (!specs.length) return null;
  const start = (discovery: boolean) =>
    startCameras({ cameras: specs, host: '127.0.0.1', discovery: discovery ? { port: 3702, bind: '127.0.0.1' } : false, log: (l) => log.warn(l) });
  let farm;
  try {
    farm = await start(true).catch((err: Error) => {
      log.warn({ err: err.message }, 'demo: WS-Discovery port 3702 unavailable; cameras run without discovery');
      return start(false);
    });
  } catch (err) {
    log.error({ err: (err as Error).message }, 'demo: the simulated cameras could not start (their ports are taken?); the gateway runs without them');
    return null;
  }
  const traffic = startTraffic(farm, 'demo');
  log.info(
    { cameras: specs.length, ports: `${specs[0]!.port}..${specs[specs.length - 1]!.port}` },
    'demo: simulated ONVIF cameras listening (motion now and then)',
  );
  return {
    async stop() {
      traffic.stop();
      await farm.stop();
    },
  };
}
