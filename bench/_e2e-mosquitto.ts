/**
 * The baseline of the end-to-end benchmark: the store-and-forward a user would otherwise pick.
 * Two Debian mosquitto brokers on loopback, each with its own config in the benchmark's temp dir:
 *
 *   local     the box: devices publish here (password file + ACL, persistence on), and a bridge
 *             forwards `sw/v1/+/event` to the upstream at QoS 1 with cleansession false;
 *   upstream  the county's broker (persistence on); the county subscriber reads from it.
 *
 * Queue limits are mosquitto's defaults on the box (max_queued_messages 1000, max_queued_bytes 0,
 * max_inflight_messages 20, autosave_interval 1800), written out explicitly so the report can quote
 * them; `queue` overrides max_queued_messages (0 = no limit). The upstream keeps everything for the
 * county subscriber (max_queued_messages 0), so what is lost is lost at the box, not at the county.
 *
 * Not a benchmark of its own (files starting with `_` are helpers).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { deviceId, devicePassword } from './_ingest-devices.ts';

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p)) ?? null;

/** Accounts on the upstream broker. */
export const BRIDGE_USER = 'sw-box-bridge';
export const COUNTY_USER = 'county-platform';
const BRIDGE_PASSWORD = 'bridge-bench-secret';
export const COUNTY_PASSWORD = 'county-bench-secret';

/** mosquitto's own defaults for the queue of one client (the bridge is one), as the Debian package ships them. */
export const MOSQUITTO_DEFAULTS = { max_queued_messages: 1000, max_queued_bytes: 0, max_inflight_messages: 20, autosave_interval: 1800 } as const;

export interface BaselineConfig {
  dir: string;
  localPort: number;
  upstreamPort: number;
  devices: number;
  /** max_queued_messages on the box (default: mosquitto's 1000). */
  queue: number;
}

export interface BaselineFiles {
  local: string;
  upstream: string;
  /** The box's config text without paths and secrets, for the report. */
  localText: string;
  upstreamText: string;
}

/** Write both brokers' configs, password files (hashed with mosquitto_passwd -U) and the box's ACL. */
export function writeBaseline(c: BaselineConfig): BaselineFiles {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed: apt-get install -y mosquitto (the end-to-end baseline runs it)');
  const root = process.getuid?.() === 0 ? ['user root'] : []; // as root mosquitto would switch to its own user, who cannot read the temp dir
  const localData = join(c.dir, 'local-data');
  const upData = join(c.dir, 'upstream-data');
  mkdirSync(localData, { recursive: true });
  mkdirSync(upData, { recursive: true });

  const localPw = join(c.dir, 'local-passwd');
  writeFileSync(localPw, Array.from({ length: c.devices }, (_, i) => `${deviceId(i)}:${devicePassword(deviceId(i))}\n`).join(''));
  execFileSync('mosquitto_passwd', ['-U', localPw]);
  const acl = join(c.dir, 'local-acl');
  writeFileSync(acl, 'pattern readwrite sw/v1/%u/#\n');
  const upPw = join(c.dir, 'upstream-passwd');
  writeFileSync(upPw, `${BRIDGE_USER}:${BRIDGE_PASSWORD}\n${COUNTY_USER}:${COUNTY_PASSWORD}\n`);
  execFileSync('mosquitto_passwd', ['-U', upPw]);

  const d = MOSQUITTO_DEFAULTS;
  const localLines = [
    `listener ${c.localPort} 127.0.0.1`,
    'allow_anonymous false',
    'password_file <dir>/local-passwd',
    'acl_file <dir>/local-acl          # pattern readwrite sw/v1/%u/#',
    'persistence true',
    'persistence_location <dir>/local-data/',
    `autosave_interval ${d.autosave_interval}            # default`,
    `max_queued_messages ${c.queue}${c.queue === d.max_queued_messages ? '           # default' : ''}`,
    `max_queued_bytes ${d.max_queued_bytes}                # default (no byte limit)`,
    `max_inflight_messages ${d.max_inflight_messages}         # default`,
    'connection county',
    `address 127.0.0.1:${c.upstreamPort}`,
    'remote_clientid sw-box-bridge',
    `remote_username ${BRIDGE_USER}`,
    'remote_password <secret>',
    'topic sw/v1/+/event out 1',
    'cleansession false',
    'bridge_protocol_version mqttv311',
  ];
  const upLines = [
    `listener ${c.upstreamPort} 127.0.0.1`,
    'allow_anonymous false',
    'password_file <dir>/upstream-passwd',
    'persistence true',
    'persistence_location <dir>/upstream-data/',
    'max_queued_messages 0             # the county keeps everything for its subscriber',
  ];
  const real = (lines: string[]) =>
    [
      ...root,
      ...lines.map((l) =>
        l
          .replace(/\s+#.*$/, '')
          .replace('<dir>', c.dir)
          .replace('<secret>', BRIDGE_PASSWORD),
      ),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n');
  const local = join(c.dir, 'local.conf');
  const upstream = join(c.dir, 'upstream.conf');
  writeFileSync(local, real(localLines));
  writeFileSync(upstream, real(upLines));
  return { local, upstream, localText: localLines.join('\n'), upstreamText: upLines.join('\n') };
}

/** One mosquitto process; `restart()` brings it back on the same config and port (the upstream after an outage). */
export class Mosquitto {
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = '';

  constructor(
    readonly name: string,
    private readonly conf: string,
    readonly port: number,
  ) {}

  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  get alive(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Start and wait (bounded) until the port takes TCP connections. */
  async start(timeoutMs = 15_000): Promise<void> {
    const p = spawn(MOSQUITTO!, ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = p;
    this.exited = new Promise((r) => p.once('exit', () => r()));
    p.stderr!.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-2000)));
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (await listening(this.port)) return;
      if (!this.alive) throw new Error(`${this.name} mosquitto exited at start: ${this.stderrTail.trim() || 'no output'}`);
      if (Date.now() > until) throw new Error(`${this.name} mosquitto is not listening on ${this.port} after ${timeoutMs / 1000} s: ${this.stderrTail.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (mosquitto saves its persistence file on the way out), then SIGKILL after `ms`. */
  async stop(ms = 10_000): Promise<void> {
    if (!this.alive) return;
    this.proc!.kill('SIGTERM');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, ms))]);
    if (this.alive) {
      this.proc!.kill('SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
    }
  }

  kill(): void {
    if (this.alive) this.proc!.kill('SIGKILL');
  }

  /** Warnings and errors it printed (the tail). */
  get log(): string {
    return this.stderrTail.trim();
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
