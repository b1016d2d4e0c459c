import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { stringify } from 'yaml';

/** How the gateway is started: from the sources under tsx (what `npm run gw` does), or compiled (`node dist/gateway/main.js`). */
export type Entry = 'tsx' | 'dist';
const command = (entry: Entry, args: string[]) => (entry === 'dist' ? ['dist/gateway/main.js', ...args] : ['--import', 'tsx', 'gateway/main.ts', ...args]);

/** Run `gw <args>` to completion. */
export function gw(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  entry: Entry = 'tsx',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, command(entry, args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Start `gw <args>` in the background, collecting its output. */
export function gwBackground(args: string[], entry: Entry = 'tsx'): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, command(entry, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * A small loopback site file (one urban estate, one grid) for a CLI run: `devices` and any other top-level
 * keys come from `extra`.
 */
export function writeSiteFile(file: string, o: { boxId: string; name: string; port: number; mqttPort: number; extra?: Record<string, unknown> }): string {
  writeFileSync(
    file,
    stringify({
      demo: true,
      site: { boxId: o.boxId, name: o.name, divisionCode: '320602001001', kind: 'urban_estate' },
      grids: [{ code: '320602001001-01', name: '一网格' }],
      devices: [],
      panel: { host: '127.0.0.1', port: o.port },
      broker: { host: '127.0.0.1', port: o.mqttPort },
      ...o.extra,
    }),
  );
  return file;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Poll a URL until it answers 2xx, or fail after `ms`. */
export async function waitForHttp(url: string, ms = 20_000): Promise<Response> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return r;
      last = new Error(`HTTP ${r.status}`);
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${ms} ms: ${String(last)}`);
}
