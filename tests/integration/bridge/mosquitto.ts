import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect as tcp } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../helpers/cli.ts';

/** Debian's broker, if installed (`apt-get install -y mosquitto`). */
export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p)) ?? null;

export interface Mosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * A real mosquitto on a random loopback port, with password accounts and an
 * ACL as a county would set it up: each box may write only its own `up`
 * topic and read only its own `ack` topic; the platform reads every `up` and
 * writes every `ack`.
 */
export async function startMosquitto(dir: string, users: Record<string, string>, acl: string): Promise<Mosquitto> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
  const port = await freePort();
  const pw = join(dir, 'passwd');
  writeFileSync(pw, '');
  for (const [u, p] of Object.entries(users)) execFileSync('mosquitto_passwd', ['-b', pw, u, p]);
  writeFileSync(join(dir, 'acl'), acl);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // As root, mosquitto would switch to its own user, who cannot read the test's private temp folder.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${pw}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = tcp(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > until) throw new Error(`mosquitto did not start on port ${port}: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
