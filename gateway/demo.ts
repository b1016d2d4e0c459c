import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SiteConfig } from '../config/schema.ts';
import { loadScenarioFile, runScenario, specsFromSite, startMqttDevices, type SimEstate } from '../simulators/mqtt-devices/index.ts';
import type { App } from './app.ts';
import { CountyReceiver } from '../simulators/county-platform/receiver.ts';
import { Puller } from '../simulators/county-platform/puller.ts';
import { cameraSpecsFromSite, loadScript, runScript, startCameras, startTraffic, type CameraFarm } from '../simulators/onvif-camera/index.ts';

const SCENARIO = fileURLToPath(new URL('../simulators/mqtt-devices/scenarios/demo-night-intrusion.yaml', import.meta.url));

const CAMERA_SCRIPT = fileURLToPath(new URL('../simulators/onvif-camera/scenarios/demo-night.yaml', import.meta.url));

export interface DemoEstate {
  /** Once the gateway runs: connect the MQTT devices and the county's puller, start both scenarios. */
  attach(app: App): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The demo estate on loopback. The peers the box dials (the 24 ONVIF cameras, the county platform) start
 * before the gateway, so it finds them at once; the MQTT devices, which dial the box, and the county's
 * puller start once it runs (`attach`). Then two timelines run side by side: the MQTT night scenario and
 * the cameras' script (a forced door its camera confirms, a camera losing power and coming back). The
 * simulators speak wire protocols only; nothing here reaches into the gateway.
 */
export async function startDemoEstate(config: SiteConfig, log: Logger): Promise<DemoEstate> {
  const cameras = await startDemoCameras(config, log);
  const county = await startDemoCounty(config, log);
  const abort = new AbortController();
  let estate: SimEstate | null = null;
  let script: { stop(): void } | null = null;
  let app: App | null = null;
  return {
    async attach(a) {
      app = a;
      const port = a.broker.addresses.find((x) => !x.tls)!.port;
      estate = await startMqttDevices({
        brokerUrl: `mqtt://127.0.0.1:${port}`,
        devices: specsFromSite(config),
        traffic: 'realistic',
        log: (line) => log.debug(line),
      });
      log.info({ devices: estate.devices.length }, 'demo: simulated MQTT devices connected (panels, doors, SOS buttons, sensors, siren, loudspeaker)');
      county.pull(a.http.url);
      runScenario(estate, await loadScenarioFile(SCENARIO), { signal: abort.signal, log: (line) => log.info(`demo scenario: ${line}`) }).catch((err: Error) => {
        if (!abort.signal.aborted) log.warn({ err }, 'demo scenario stopped');
      });
      if (cameras)
        script = runScript(cameras.farm, await loadScript(CAMERA_SCRIPT, new Set(cameras.farm.cameras.map((c) => c.id))), (l) =>
          log.info(`demo cameras: ${l}`),
        );
      // The panel (issue 7): where to open it and, on a fresh data folder, the one-time link that creates the first account.
      log.info(
        { panel: a.http.url, ...(a.setupLink ? { setupLink: a.setupLink.url } : {}) },
        a.setupLink ? 'demo: open the setup link to create the first panel account (a manager), then sign in' : 'demo: the panel',
      );
    },
    async stop() {
      abort.abort();
      script?.stop();
      // The camera driver first, so it unsubscribes from cameras that are still there.
      await app?.onvif.stop();
      await cameras?.stop();
      await estate?.stop();
      await county.stop();
    },
  };
}

/**
 * The county platform of the demo: the simulator receiving the box's pushes on 127.0.0.1:18600 (the demo
 * site's upstream.county.url) and, once the box runs, pulling its county API with write-back (交办 on each
 * new alarm).
 */
async function startDemoCounty(config: SiteConfig, log: Logger): Promise<{ pull(base: string): void; stop(): Promise<void> }> {
  const url = config.upstream.county?.url;
  const port = url ? Number(new URL(url).port) : 0;
  const receiver = url ? new CountyReceiver({ host: '127.0.0.1', port, tokens: ['demo-county-token'], log: (line) => log.debug(line) }) : null;
  try {
    await receiver?.start();
    if (receiver) log.info({ ingest: receiver.url, accounting: `${receiver.base}/accounting` }, 'demo: county platform simulator receiving pushes');
  } catch (err) {
    log.warn({ err, port }, 'demo: the county simulator could not listen (port taken?); pushes will back off and wait');
  }
  let puller: Puller | null = null;
  return {
    pull(base) {
      if (!config.countyApi.enabled) return;
      puller = new Puller({ base, token: 'demo-county-token', writeBack: true, log: (line) => log.debug(`county puller: ${line}`) });
      puller.start();
    },
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
async function startDemoCameras(config: SiteConfig, log: Logger): Promise<{ farm: CameraFarm; stop(): Promise<void> } | null> {
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
    farm,
    async stop() {
      traffic.stop();
      await farm.stop();
    },
  };
}
