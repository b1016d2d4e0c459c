/**
 * `npm run sim -- county [options]`: the county platform (县级综治中心) as a test peer.
 */
import fs from 'node:fs';
import { Accounting } from './accounting.ts';
import { MqttCountyReceiver } from './mqtt-receiver.ts';
import { Puller } from './puller.ts';
import { CountyReceiver, MODES, type Mode, type ModeOptions } from './receiver.ts';

export const USAGE = `npm run sim -- county [options]

Receives what boxes push (HTTP batches at /api/v1/ingest, or MQTT from a county broker), acks like a
real platform and accounts for what arrived: per box the highest contiguous seq, gaps, duplicates
(dropped by id), rejections, latency. Prints its accounting on exit; serves it as JSON at /accounting.

  --host <addr>              listen address (default 127.0.0.1)
  --port <n>                 listen port (default 18600)
  --mode <mode>              ${MODES.join(' | ')} (default healthy)
  --script <m:s,...>         modes over time, e.g. down:30,flaky:60,healthy (seconds; the last one stays)
  --token <t>                accept this bearer token (repeatable; none and no --hmac-key: no auth)
  --hmac-key <id:secret>     accept HMAC-signed requests with this key (repeatable)
  --tls-cert <f> --tls-key <f>  serve HTTPS; --tls-client-ca <f> also requires client certificates from it
  --slow-ms <n>              slow mode delay (default 2000)
  --fail-share <0..1>        flaky: share of 500s (default 0.3)
  --partial-share <0..1>     partial: share of each batch acked (default 0.5)
  --lost-share <0..1>        lost-acks: share of answers cut (default 0.5)
  --retry-after <s>          throttle: Retry-After seconds (default 1)
  --max-envelope-bytes <n>   refuse envelopes whose body is larger (default 65536)
  --mqtt <url>               also take batches from this county broker (<prefix>/+/up, acks on <prefix>/<box>/ack)
  --mqtt-user <u> --mqtt-password <p> --topic-prefix <p>   (default prefix county/v1)
  --pull <base url>          puller mode: read a box's pull API (e.g. http://127.0.0.1:8080) with cursor + acks
  --pull-token <t>           token for the pull API
  --write-back               puller: write 交办 back on each new alarm
  --duration <s>             stop after this many seconds (default: until Ctrl-C)
  --seed <n>                 repeatable choices in flaky/partial/lost-acks modes
  --json                     print the accounting as JSON on exit
`;

export class UsageError extends Error {}

interface Args extends ModeOptions {
  host: string;
  port: number;
  mode: Mode;
  script: { mode: Mode; seconds: number }[];
  tokens: string[];
  hmacKeys: Record<string, string>;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  maxEnvelopeBytes?: number;
  mqtt?: string;
  mqttUser?: string;
  mqttPassword?: string;
  topicPrefix?: string;
  pull?: string;
  pullToken?: string;
  writeBack: boolean;
  durationS?: number;
  seed?: number;
  json: boolean;
  help: boolean;
}

const isMode = (m: string): m is Mode => (MODES as readonly string[]).includes(m);

export function parseArgs(argv: readonly string[]): Args {
  const a: Args = { host: '127.0.0.1', port: 18600, mode: 'healthy', script: [], tokens: [], hmacKeys: {}, writeBack: false, json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const num = (min: number, max: number): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag}: expected a number in ${min}..${max}, got ${JSON.stringify(v)}`);
      return n;
    };
    switch (flag) {
      case '--host':
        a.host = value();
        break;
      case '--port':
        a.port = num(0, 65535);
        break;
      case '--mode': {
        const m = value();
        if (!isMode(m)) throw new UsageError(`--mode: expected one of ${MODES.join(', ')}, got ${JSON.stringify(m)}`);
        a.mode = m;
        break;
      }
      case '--script':
        a.script = value()
          .split(',')
          .map((part) => {
            const [m, s] = part.split(':');
            if (!m || !isMode(m)) throw new UsageError(`--script: ${JSON.stringify(part)} does not start with a mode (${MODES.join(', ')})`);
            const seconds = s === undefined ? Infinity : Number(s);
            if (!(seconds > 0)) throw new UsageError(`--script: ${JSON.stringify(part)}: expected mode:seconds`);
            return { mode: m, seconds };
          });
        break;
      case '--token':
        a.tokens.push(value());
        break;
      case '--hmac-key': {
        const v = value();
        const at = v.indexOf(':');
        if (at < 1 || at === v.length - 1) throw new UsageError('--hmac-key: expected <key id>:<secret>');
        a.hmacKeys[v.slice(0, at)] = v.slice(at + 1);
        break;
      }
      case '--tls-cert':
        a.tlsCert = value();
        break;
      case '--tls-key':
        a.tlsKey = value();
        break;
      case '--tls-client-ca':
        a.tlsClientCa = value();
        break;
      case '--slow-ms':
        a.slowMs = num(0, 600_000);
        break;
      case '--fail-share':
        a.failShare = num(0, 1);
        break;
      case '--partial-share':
        a.partialShare = num(0, 1);
        break;
      case '--lost-share':
        a.lostShare = num(0, 1);
        break;
      case '--retry-after':
        a.retryAfterSeconds = num(0, 3600);
        break;
      case '--max-envelope-bytes':
        a.maxEnvelopeBytes = num(64, 64 * 1024 * 1024);
        break;
      case '--mqtt':
        a.mqtt = value();
        break;
      case '--mqtt-user':
        a.mqttUser = value();
        break;
      case '--mqtt-password':
        a.mqttPassword = value();
        break;
      case '--topic-prefix':
        a.topicPrefix = value();
        break;
      case '--pull':
        a.pull = value();
        break;
      case '--pull-token':
        a.pullToken = value();
        break;
      case '--write-back':
        a.writeBack = true;
        break;
      case '--duration':
        a.durationS = num(1, 30 * 86400);
        break;
      case '--seed':
        a.seed = num(0, 2 ** 31);
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
  if ((a.tlsCert === undefined) !== (a.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (a.pull && !a.pullToken) throw new UsageError('--pull needs --pull-token');
  return a;
}

const say = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} county: ${line}\n`);

export async function main(argv: readonly string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (a.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const accounting = new Accounting();
  const modeOpts: ModeOptions = {
    ...(a.slowMs !== undefined ? { slowMs: a.slowMs } : {}),
    ...(a.failShare !== undefined ? { failShare: a.failShare } : {}),
    ...(a.partialShare !== undefined ? { partialShare: a.partialShare } : {}),
    ...(a.lostShare !== undefined ? { lostShare: a.lostShare } : {}),
    ...(a.retryAfterSeconds !== undefined ? { retryAfterSeconds: a.retryAfterSeconds } : {}),
  };
  const first = a.script[0]?.mode ?? a.mode;
  const receiver = new CountyReceiver({
    host: a.host,
    port: a.port,
    mode: first,
    tokens: a.tokens,
    hmacKeys: a.hmacKeys,
    ...(a.tlsCert && a.tlsKey
      ? {
          tls: {
            cert: fs.readFileSync(a.tlsCert),
            key: fs.readFileSync(a.tlsKey),
            ...(a.tlsClientCa ? { ca: fs.readFileSync(a.tlsClientCa), requireClientCert: true } : {}),
          },
        }
      : {}),
    ...(a.maxEnvelopeBytes !== undefined ? { maxEnvelopeBytes: a.maxEnvelopeBytes } : {}),
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
    ...modeOpts,
    accounting,
    log: say,
  });
  await receiver.start();
  say(`${first === 'down' ? 'down (not listening) at' : 'receiving at'} ${receiver.url}; accounting at ${receiver.base}/accounting; mode ${first}`);
  const mqttReceiver = a.mqtt
    ? await new MqttCountyReceiver({
        url: a.mqtt,
        ...(a.mqttUser ? { username: a.mqttUser } : {}),
        ...(a.mqttPassword ? { password: a.mqttPassword } : {}),
        ...(a.topicPrefix ? { topicPrefix: a.topicPrefix } : {}),
        mode: first,
        ...modeOpts,
        accounting,
        log: say,
      }).start()
    : null;
  if (mqttReceiver) say(`taking batches from ${a.mqtt} on ${mqttReceiver.prefix}/+/up`);
  const puller = a.pull ? new Puller({ base: a.pull, token: a.pullToken!, writeBack: a.writeBack, log: say }) : null;
  puller?.start();

  const timers: NodeJS.Timeout[] = [];
  let at = 0;
  for (const step of a.script.slice(1)) {
    at += a.script[a.script.indexOf(step) - 1]!.seconds;
    timers.push(
      setTimeout(() => {
        void receiver.setMode(step.mode, modeOpts);
        void mqttReceiver?.setMode(step.mode, modeOpts);
      }, at * 1000),
    );
  }

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (a.durationS !== undefined) timers.push(setTimeout(resolve, a.durationS * 1000));
  });
  for (const t of timers) clearTimeout(t);
  await puller?.stop();
  await mqttReceiver?.stop();
  await receiver.stop();
  if (a.json) process.stdout.write(`${JSON.stringify({ ...accounting.report(), ...(puller ? { pull: puller.report() } : {}) })}\n`);
  else {
    process.stdout.write(`${accounting.summary()}\n`);
    if (puller) process.stdout.write(`${puller.summary()}\n`);
  }
  return 0;
}
