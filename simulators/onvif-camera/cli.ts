/**
 * `npm run sim -- cameras [--config site.yaml] [--traffic none|demo|motion:10s] [--flavour standard|hikvision|dahua|mixed]
 *   [--fault NAME[=VALUE][@camera]] [--script file] [--discovery-port N|off] [--any-port] [--duration 60s] [--json]`
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { DEMO_CONFIG_FILE, formatProblems, loadConfigFile } from '../../config/load.ts';
import { startCameras, type CameraFarm } from './farm.ts';
import { loadScript, runScript } from './script.ts';
import { cameraSpecsFromSite } from './site.ts';
import { MIN_PERIOD_MS, startTraffic, type CameraTraffic } from './traffic.ts';
import { FLAVOURS, type Flavour } from './types.ts';

export const USAGE = `npm run sim -- cameras [options]

Simulates every ONVIF camera of a site in one process, each on its own port (the site's host is
ignored: cameras listen on --host): device, media, events (PullPoint) and PTZ services, a JPEG snapshot
behind HTTP Digest, and WS-Discovery answers to unicast probes.

  --config <site.yaml>      site whose cameras to simulate (default: the demo estate)
  --host <address>          address the cameras listen on (default 127.0.0.1)
  --any-port                ignore the site's ports and take free ones (printed when ready)
  --flavour <f>             standard (default), hikvision, dahua, or mixed (in turn)
  --traffic <t>             demo (default: motion now and then), none, or motion:<period> (e.g. motion:10s:
                            every camera raises motion every period and clears it a second later)
  --fault <name[=v][@cam]>  repeatable; without @cam it applies to every camera:
                              clock-skew=<±seconds>  camera clock off by this much
                              sub-cap=<n>            at most n subscriptions at once
                              slow=<ms>              every SOAP answer delayed
                              lockout=<n>            account locked 5 min after n failed logins
                              events-down            events service answers 503
                              no-date                GetSystemDateAndTime gives no date (cheap IPCs)
                              drop-subscriptions=<period>   drop subscriptions silently every period (60 rounds at most)
  --script <file>           YAML/JSON timeline of events, faults and actions (see simulators/README.md)
  --discovery-port <n|off>  UDP port answering WS-Discovery probes (default 3702; unicast only)
  --discovery-multicast <a> also join 239.255.255.250 on the interface with this address — only inside a
                            network namespace made for a test, never on a real network
  --duration <d>            stop after this long (e.g. 60s, 10m); default: until Ctrl-C
  --log-level <level>       info (default), debug, warn
  --json                    JSON log lines (the "cameras ready" line lists every camera's port)
`;

export class UsageError extends Error {}

interface FaultArg {
  name: 'clock-skew' | 'sub-cap' | 'slow' | 'lockout' | 'events-down' | 'no-date' | 'drop-subscriptions';
  value: number;
  camera: string | null;
}

interface CliArgs {
  config?: string;
  host: string;
  anyPort: boolean;
  flavour: Flavour | 'mixed';
  traffic: CameraTraffic;
  faults: FaultArg[];
  script?: string;
  discoveryPort: number | null;
  discoveryMulticast?: string;
  durationMs?: number;
  logLevel: string;
  json: boolean;
  help: boolean;
}

export function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag}: expected a duration like 500ms, 10s, 5m, got ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : m[2] === 'h' ? n * 3600_000 : n * 1000);
}

export function parseTraffic(v: string): CameraTraffic {
  if (v === 'none' || v === 'demo') return v;
  const m = /^motion:(.+)$/.exec(v);
  if (!m) throw new UsageError(`--traffic: expected none, demo or motion:<period>, got ${JSON.stringify(v)}`);
  const periodMs = parseDuration(m[1]!, '--traffic');
  if (periodMs < MIN_PERIOD_MS) throw new UsageError(`--traffic: the period must be at least ${MIN_PERIOD_MS} ms`);
  return { periodMs, activeMs: Math.min(1000, periodMs / 2) };
}

const FAULT_NAMES: FaultArg['name'][] = ['clock-skew', 'sub-cap', 'slow', 'lockout', 'events-down', 'no-date', 'drop-subscriptions'];

export function parseFault(v: string): FaultArg {
  const m = /^([a-z-]+)(?:=([^@]+))?(?:@(.+))?$/.exec(v);
  const name = m?.[1] as FaultArg['name'] | undefined;
  if (!m || !name || !FAULT_NAMES.includes(name)) throw new UsageError(`--fault: expected one of ${FAULT_NAMES.join(', ')}, got ${JSON.stringify(v)}`);
  const camera = m[3] ?? null;
  if (name === 'events-down' || name === 'no-date') return { name, value: 1, camera };
  if (m[2] === undefined) throw new UsageError(`--fault ${name} needs a value (${name}=...)`);
  const value = name === 'drop-subscriptions' ? parseDuration(m[2], '--fault drop-subscriptions') : Number(m[2]);
  if (!Number.isFinite(value) || (name !== 'clock-skew' && value < (name === 'slow' ? 0 : 1)))
    throw new UsageError(`--fault ${name}: ${JSON.stringify(m[2])} is not a valid value`);
  return { name, value, camera };
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = {
    host: '127.0.0.1',
    anyPort: false,
    flavour: 'standard',
    traffic: 'demo',
    faults: [],
    discoveryPort: 3702,
    logLevel: 'info',
    json: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--config':
        a.config = value();
        break;
      case '--host':
        a.host = value();
        break;
      case '--any-port':
        a.anyPort = true;
        break;
      case '--flavour': {
        const f = value();
        if (f !== 'mixed' && !FLAVOURS.includes(f as Flavour))
          throw new UsageError(`--flavour: expected ${FLAVOURS.join(', ')} or mixed, got ${JSON.stringify(f)}`);
        a.flavour = f as Flavour | 'mixed';
        break;
      }
      case '--traffic':
        a.traffic = parseTraffic(value());
        break;
      case '--fault':
        a.faults.push(parseFault(value()));
        break;
      case '--script':
        a.script = value();
        break;
      case '--discovery-port': {
        const v = value();
        const n = Number(v);
        if (v !== 'off' && !(Number.isInteger(n) && n >= 0 && n < 65536))
          throw new UsageError(`--discovery-port: expected a port or off, got ${JSON.stringify(v)}`);
        a.discoveryPort = v === 'off' ? null : n;
        break;
      }
      case '--discovery-multicast':
        a.discoveryMulticast = value();
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(a.discoveryMulticast))
          throw new UsageError(`--discovery-multicast: expected an IPv4 interface address, got ${JSON.stringify(a.discoveryMulticast)}`);
        break;
      case '--duration':
        a.durationMs = parseDuration(value(), flag);
        break;
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
  const opts = { level: args.logLevel, base: { sim: 'cameras' } };
  return args.json
    ? pino(opts)
    : pino(opts, pretty({ colorize: process.stdout.isTTY, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,sim' }));
}

function applyFaults(farm: CameraFarm, faults: readonly FaultArg[], log: Logger): Array<() => void> {
  const stops: Array<() => void> = [];
  for (const f of faults) {
    const cams = f.camera ? [farm.camera(f.camera)] : farm.cameras;
    if (f.name === 'drop-subscriptions') {
      let rounds = 0;
      const loop = () => {
        if (++rounds > 60) return;
        const n = cams.reduce((sum, c) => sum + c.dropSubscriptions('silent'), 0);
        log.info(`fault drop-subscriptions: ${n} subscriptions dropped silently (round ${rounds})`);
        timer = farm.clock.setTimer(f.value, loop);
      };
      let timer = farm.clock.setTimer(f.value, loop);
      stops.push(() => timer.cancel());
      continue;
    }
    for (const c of cams) {
      if (f.name === 'clock-skew') c.faults.clockSkewMs = f.value * 1000;
      if (f.name === 'sub-cap') c.faults.maxSubscriptions = f.value;
      if (f.name === 'slow') c.faults.slowMs = f.value;
      if (f.name === 'lockout') c.auth.lockout = { after: f.value, forMs: 5 * 60_000 };
      if (f.name === 'events-down') c.faults.eventsDown = true;
      if (f.name === 'no-date') c.faults.noDate = true;
    }
    log.info(`fault ${f.name}${f.name === 'events-down' || f.name === 'no-date' ? '' : `=${f.value}`} on ${f.camera ?? `all ${cams.length} cameras`}`);
  }
  return stops;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
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
  const specs = cameraSpecsFromSite(loaded.config, { flavour: args.flavour, anyPort: args.anyPort });
  if (!specs.length) {
    log.error(`${file}: no enabled onvif_camera devices to simulate`);
    return 1;
  }
  let farm: CameraFarm;
  try {
    for (const f of args.faults)
      if (f.camera && !specs.some((s) => s.id === f.camera)) throw new UsageError(`--fault ${f.name}: no camera ${f.camera} in ${file}`);
    farm = await startCameras({
      cameras: specs,
      host: args.host,
      discovery:
        args.discoveryPort === null
          ? false
          : {
              port: args.discoveryPort,
              // multicast arrives addressed to the group, so the socket then listens on every address
              bind: args.discoveryMulticast ? '0.0.0.0' : args.host,
              ...(args.discoveryMulticast ? { multicastInterface: args.discoveryMulticast } : {}),
            },
      log: (l) => log.warn(l),
    });
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  }
  const stops = applyFaults(farm, args.faults, log);
  const traffic = startTraffic(farm, args.traffic);
  let script: ReturnType<typeof runScript> | null = null;
  if (args.script) {
    try {
      script = runScript(farm, await loadScript(args.script, new Set(specs.map((s) => s.id))), (l) => log.info(`script: ${l}`));
    } catch (err) {
      log.error((err as Error).message);
      traffic.stop();
      await farm.stop();
      return 1;
    }
  }
  log.info(
    // the port list is for programs (--json); people get the range
    {
      ready: true,
      discoveryPort: farm.discovery?.port ?? null,
      ...(args.json ? { cameras: farm.cameras.map((c) => ({ id: c.id, port: c.port, flavour: c.flavour })) } : {}),
    },
    `${loaded.config.site.name}: ${specs.length} cameras ready on ${args.host} (ports ${Math.min(...farm.cameras.map((c) => c.port))}..${Math.max(...farm.cameras.map((c) => c.port))}), traffic ${typeof args.traffic === 'string' ? args.traffic : `motion every ${args.traffic.periodMs} ms`}`,
  );

  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let stopping = false;
  const shutdown = (why: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info(`${why}: stopping`);
    traffic.stop();
    script?.stop();
    for (const s of stops) s();
    void farm.stop().then(() => resolveExit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (args.durationMs !== undefined) setTimeout(() => shutdown('duration over'), args.durationMs).unref();
  const summary = setInterval(() => {
    const cams = farm.cameras;
    const sum = (f: (c: (typeof cams)[number]) => number) => cams.reduce((n, c) => n + f(c), 0);
    log.info(
      `subscriptions ${sum((c) => c.activeSubscriptions)}; events raised ${sum((c) => c.stats.emitted)}; pulls ${sum((c) => c.stats.pulls)}; renewals ${sum((c) => c.stats.renews)}; refused logins ${sum((c) => c.auth.stats.failures)}`,
    );
  }, 30_000);
  summary.unref();
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const code = await exited;
  clearInterval(keepAlive);
  clearInterval(summary);
  return code;
}
