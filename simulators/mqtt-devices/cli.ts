/**
 * `npm run sim -- mqtt-devices [--config site.yaml] [--broker mqtt://127.0.0.1:1883] [--scenario file]
 *   [--traffic realistic|none|<n>/s] [--fault bad-payloads|flood|unclean-disconnects|silence] [--duration 60s]`
 */
import fs from 'node:fs';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { DEMO_CONFIG_FILE, formatProblems, loadConfigFile } from '../../config/load.ts';
import { startMqttDevices, type SimEstate } from './estate.ts';
import { FAULT_MODES, type FaultMode } from './faults.ts';
import { loadScenarioFile, runScenario, type Scenario } from './scenario.ts';
import { specsFromSite } from './site.ts';
import { MAX_EVENTS_PER_SECOND } from './traffic.ts';
import type { SimTraffic } from './types.ts';
import { errorMessage, formatMs, parseDuration, seededRandom } from './util.ts';

export const USAGE = `npm run sim -- mqtt-devices [options]

Simulates the site's MQTT devices (alarm panels, door controllers, SOS buttons, sensors, siren,
loudspeaker), each with its own connection and credentials, speaking docs/mqtt-contract.md.

  --config <site.yaml>     site file whose MQTT devices to simulate (default: the demo estate)
  --broker <url>           broker to connect to (default mqtt://127.0.0.1:<broker.port of the site>)
  --ca <file.pem>          CA certificate for an mqtts:// broker
  --scenario <file>        YAML/JSON timeline to play once all devices are online
  --traffic <t>            realistic (default), none, or <n>/s steady events for load
  --fault <mode>           bad-payloads | flood | unclean-disconnects | silence (repeatable; bounded)
  --duration <d>           stop after this long (e.g. 60s, 10m); default: until Ctrl-C
  --heartbeat <d>          heartbeat period per device (default 60s; 0 = none)
  --seed <n>               repeatable traffic and faults
  --log-level <level>      info (default), debug, warn
  --json                   JSON log lines instead of pretty ones
`;

interface CliArgs {
  config?: string;
  broker?: string;
  ca?: string;
  scenario?: string;
  traffic: SimTraffic;
  faults: FaultMode[];
  durationMs?: number;
  heartbeatMs: number;
  seed?: number;
  logLevel: string;
  json: boolean;
  help: boolean;
}

export class UsageError extends Error {}

export function parseTraffic(v: string): SimTraffic {
  if (v === 'realistic' || v === 'none') return v;
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0 && n <= MAX_EVENTS_PER_SECOND))
    throw new UsageError(`--traffic: expected realistic, none or <n>/s with 0 < n ≤ ${MAX_EVENTS_PER_SECOND}, got ${JSON.stringify(v)}`);
  return { eventsPerSecond: n };
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = { traffic: 'realistic', faults: [], heartbeatMs: 60_000, logLevel: 'info', json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const dur = (v: string) => {
      try {
        return parseDuration(v, flag);
      } catch (err) {
        throw new UsageError(errorMessage(err));
      }
    };
    switch (flag) {
      case '--config':
        a.config = value();
        break;
      case '--broker':
        a.broker = value();
        break;
      case '--ca':
        a.ca = value();
        break;
      case '--scenario':
        a.scenario = value();
        break;
      case '--traffic':
        a.traffic = parseTraffic(value());
        break;
      case '--fault':
        for (const f of value().split(',')) {
          if (!FAULT_MODES.includes(f as FaultMode)) throw new UsageError(`--fault: expected one of ${FAULT_MODES.join(', ')}, got ${JSON.stringify(f)}`);
          if (!a.faults.includes(f as FaultMode)) a.faults.push(f as FaultMode);
        }
        break;
      case '--duration':
        a.durationMs = dur(value());
        break;
      case '--heartbeat':
        a.heartbeatMs = dur(value());
        break;
      case '--seed': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n)) throw new UsageError(`--seed: expected an integer, got ${JSON.stringify(v)}`);
        a.seed = n;
        break;
      }
      case '--log-level':
        a.logLevel = value();
        if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(a.logLevel))
          throw new UsageError(`--log-level: unknown level ${JSON.stringify(a.logLevel)}`);
        break;
      case '--json':
        a.json = true;
        break;
      case '--help':
      case '-h':
        a.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  return a;
}

function makeLogger(args: CliArgs): Logger {
  const opts = { level: args.logLevel, base: { sim: 'mqtt-devices' } };
  return args.json
    ? pino(opts)
    : pino(opts, pretty({ colorize: process.stdout.isTTY, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,sim' }));
}

/** Runs the simulator until a signal or the duration; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = makeLogger(args);

  const file = args.config ?? DEMO_CONFIG_FILE;
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    log.error(`${loaded.file}: ${loaded.problems.length} problem(s); nothing simulated\n${formatProblems(loaded.problems)}`);
    return 1;
  }
  const config = loaded.config;
  const specs = specsFromSite(config);
  if (specs.length === 0) {
    log.error(`${file}: no enabled MQTT devices to simulate`);
    return 1;
  }
  const host = ['0.0.0.0', '::', ''].includes(config.broker.host) ? '127.0.0.1' : config.broker.host;
  const brokerUrl = args.broker ?? `mqtt://${host}:${config.broker.port}`;

  let scenario: Scenario | undefined;
  let ca: Buffer | undefined;
  try {
    if (args.scenario) scenario = await loadScenarioFile(args.scenario);
    if (args.ca) ca = fs.readFileSync(args.ca);
  } catch (err) {
    log.error(errorMessage(err));
    return 1;
  }

  const random = args.seed !== undefined ? seededRandom(args.seed) : Math.random;
  const line = (s: string) => log.info(s);
  log.info(
    `${config.site.name}: ${specs.length} MQTT devices → ${brokerUrl}, traffic ${typeof args.traffic === 'string' ? args.traffic : `${args.traffic.eventsPerSecond}/s`}`,
  );

  let estate: SimEstate;
  try {
    estate = await startMqttDevices({
      brokerUrl,
      devices: specs,
      waitForConnect: false,
      heartbeatMs: args.heartbeatMs,
      timeZone: config.site.timezone,
      random,
      log: line,
      ...(ca ? { tls: { ca } } : {}),
    });
  } catch (err) {
    log.error(errorMessage(err));
    return 1;
  }

  const started = Date.now();
  const abort = new AbortController();
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  let stopping = false;
  const shutdown = (why: string) => {
    if (stopping) {
      log.warn(`${why} again: exiting without waiting`);
      process.exit(130);
    }
    stopping = true;
    log.info(`${why}: stopping (devices say offline and disconnect cleanly)`);
    abort.abort();
    const force = setTimeout(() => {
      log.error('stop took longer than 10 s: exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    void estate.stop().then(() => {
      const s = estate.stats();
      log.info(`stopped after ${formatMs(Date.now() - started)}: ${s.eventsAcked} events acknowledged, ${s.eventsFailed} failed, ${s.commands} commands`);
      resolveExit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (args.durationMs !== undefined) setTimeout(() => shutdown(`duration ${formatMs(args.durationMs ?? 0)} over`), args.durationMs).unref();

  const summary = setInterval(() => {
    const s = estate.stats();
    log.info(
      `online ${s.connected}/${s.devices}${s.silent ? `, ${s.silent} silent` : ''}; events ${s.eventsAcked} acknowledged (${s.eventsPublished - s.eventsAcked - s.eventsFailed} in flight, ${s.eventsFailed} failed); commands ${s.commands}`,
    );
  }, 30_000);
  summary.unref();

  // traffic, scenario and faults start once everyone is online (or after 30 s, with whoever is)
  void (async () => {
    await Promise.allSettled(estate.devices.map((d) => d.waitConnected(30_000)));
    if (stopping) return;
    const online = estate.devices.filter((d) => d.connected).length;
    log.info(`${online}/${estate.devices.length} devices online`);
    estate.setTraffic(args.traffic);
    for (const f of args.faults) estate.startFault(f);
    if (scenario) {
      const report = await runScenario(estate, scenario, { log: line, signal: abort.signal, random }).catch((err: unknown) => {
        log.error(errorMessage(err));
        return null;
      });
      if (report && !stopping) log.info(`scenario ${report.name}: ${report.steps.filter((s) => s.ok).length}/${report.steps.length} steps ok`);
    }
  })();

  // keeps the process alive while running (every other timer is unref'd)
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const code = await exited;
  clearInterval(keepAlive);
  clearInterval(summary);
  return code;
}
