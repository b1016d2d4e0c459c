/**
 * The command line: thin on purpose. Everything it starts is composed in app.ts.
 *
 *   gw check-config <site.yaml>                 validate a site file, print a summary
 *   gw start --config <site.yaml> --data <dir>  run the gateway
 *   gw demo [--data <dir>]                      run the embedded loopback demo estate
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { DEMO_CONFIG_FILE, formatProblems, loadConfigFile, summarize } from '../config/load.ts';
import type { SiteConfig } from '../config/schema.ts';
import { hashSecret } from '../config/schema/secret.ts';
import { App } from './app.ts';
import type { DemoEstate } from './demo.ts';

/** The project folder (the one with package.json): `..` from gateway/main.ts under tsx, `../..` from dist/gateway/main.js. */
function projectRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) if (existsSync(resolve(dir, 'package.json'))) return dir;
  throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
}
const ROOT = projectRoot();
const VERSION = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const USAGE = `Shouwang (守望) ${VERSION} — estate security gateway

usage:
  gw check-config <site.yaml|site.json>          validate a site file; exit 0 and print a summary, or exit 1 and list every problem
  gw start --config <site.yaml> --data <dir>     run the gateway with that site, keeping its database in <dir>
  gw demo [--data <dir>]                         run the loopback demo estate (default data folder: ./data/demo)
  gw hash-secret < secret.txt                    print { scrypt: "…" } for a device password or county API token, to put in the site file
  gw help
`;

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return v;
}

class UsageError extends Error {}

async function loadOrExit(file: string): Promise<SiteConfig> {
  const r = await loadConfigFile(file);
  if (r.ok) return r.config;
  err(`${r.file}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} — the gateway was not started`);
  err(formatProblems(r.problems));
  process.exit(1);
}

function makeLogger(config: SiteConfig, forcePretty: boolean): Logger {
  const opts = { level: config.logging.level, base: { box: config.site.boxId } };
  return config.logging.pretty || forcePretty
    ? pino(opts, pretty({ colorize: process.stdout.isTTY, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,box' }))
    : pino(opts);
}

async function run(config: SiteConfig, dataDir: string, log: Logger, withDemoEstate = false, configFile?: string): Promise<void> {
  // The site file, so the installer's export, import and device add work on it (the demo works on a copy).
  const app = new App({ config, dataDir, log, version: VERSION, ...(configFile ? { configFile: resolve(configFile) } : {}) });
  let estate: DemoEstate | null = null;
  let stopping = false;
  let stoppingSince = 0;
  const stop = (signal: string) => {
    if (stopping) {
      // One Ctrl-C reaches node twice under npm/tsx (the terminal's process group, and tsx relaying it): a
      // repeat within a second is that echo. A second signal after that means "stop now".
      if (Date.now() - stoppingSince < 1000) return;
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    stoppingSince = Date.now();
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      log.error('stop took longer than 15 s: exiting; committed data is safe, the WAL is replayed on next start');
      process.exit(1);
    }, 15_000);
    force.unref();
    (estate?.stop() ?? Promise.resolve())
      .catch(() => {})
      .then(() => app.stop())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: e }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    // The demo's cameras and county platform come up first, so the box finds them when it starts.
    // Loaded only for the demo: the simulators are no part of a box's `start` (about 4 MB less RSS there).
    if (withDemoEstate) estate = await (await import('./demo.ts')).startDemoEstate(config, log.child({ part: 'demo' }));
    await app.start();
    await estate?.attach(app);
    log.info({ panel: app.http.url, healthz: `${app.http.url}/healthz`, metrics: `${app.http.url}/metrics` }, 'ready');
  } catch (e) {
    log.fatal({ err: e }, `gateway failed to start: ${(e as Error).message}`);
    await estate?.stop().catch(() => {});
    await app.stop().catch(() => {});
    process.exit(1);
  }
  return;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'check-config': {
      const file = args[0];
      if (!file) throw new UsageError('check-config needs a file: gw check-config site.yaml');
      const r = await loadConfigFile(file);
      if (!r.ok) {
        err(`${r.file}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`);
        err(formatProblems(r.problems));
        process.exit(1);
      }
      out(summarize(r.config));
      out(`${r.file}: OK`);
      return;
    }
    case 'start': {
      const file = flag(args, '--config');
      const data = flag(args, '--data');
      if (!file || !data) throw new UsageError('start needs --config <site.yaml> and --data <dir>');
      const config = await loadOrExit(file);
      await run(config, resolve(data), makeLogger(config, false), false, file);
      return;
    }
    case 'demo': {
      const data = resolve(flag(args, '--data') ?? resolve(ROOT, 'data/demo'));
      const config = await loadOrExit(DEMO_CONFIG_FILE);
      const log = makeLogger(config, true);
      log.info(
        { config: DEMO_CONFIG_FILE, data },
        'demo estate: loopback only; demo device passwords are "<device id>-demo", the county token is "demo-county-token"',
      );
      await run(config, data, log, true);
      return;
    }
    case 'hash-secret': {
      // Read the secret from standard input, so it never appears in the shell history or `ps`.
      const input = await new Promise<string>((resolve) => {
        let text = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (d) => (text += d));
        process.stdin.on('end', () => resolve(text));
      });
      const secret = input.replace(/[\r\n]+$/, '');
      if (secret.length < 8) throw new UsageError('hash-secret reads the secret from standard input: at least 8 characters');
      out(`{ scrypt: "${hashSecret(secret)}" }`);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) {
    err(`gw: ${e.message}\n`);
    err(USAGE);
    process.exit(2);
  }
  err(`gw: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
