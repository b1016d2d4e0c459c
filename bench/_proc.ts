/** Child processes that speak JSON lines, and /proc readings: what the multi-process benchmarks share. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { round } from './_report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

export type Msg = Record<string, unknown>;

/**
 * A child process speaking JSON lines on stdout (other stdout lines are passed to our stderr); its stderr is
 * kept (the tail, for the error when it exits) and the first lines forwarded.
 */
export class Child {
  readonly proc: ChildProcess;
  private lines: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void; reject: (e: Error) => void }[] = [];
  private exited: string | null = null;
  private stderrTail = '';
  private forwarded = 0;

  /** A bench script: a `.ts` one (relative to bench/) under tsx, a `.js` one (dist/, relative to the project) under plain node. */
  static node(name: string, script: string, args: string[], nodeFlags: string[] = [], env: Record<string, string> = {}): Child {
    const run = script.endsWith('.js') ? [join(root, script)] : ['--import', 'tsx', join(here, script)];
    return new Child(name, process.execPath, [...nodeFlags, ...run, ...args], root, env);
  }

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    cwd: string,
    env: Record<string, string> = {},
  ) {
    this.proc = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let m: Msg;
      try {
        m = JSON.parse(line) as Msg;
      } catch {
        return void process.stderr.write(`[${this.name}] ${line}\n`);
      }
      const w = this.waiters.findIndex((x) => x.pred(m));
      if (w >= 0) this.waiters.splice(w, 1)[0]!.resolve(m);
      else this.lines.push(m);
    });
    createInterface({ input: this.proc.stderr! }).on('line', (line) => {
      this.stderrTail = (this.stderrTail + line + '\n').slice(-4000);
      if (this.forwarded++ < 20) process.stderr.write(`[${this.name}] ${line}\n`);
    });
    this.proc.stdin!.on('error', () => {});
    this.proc.on('close', (code, signal) => {
      this.exited = `exited (${signal ?? code})`;
      const tail = this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : '';
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name} ${this.exited}${tail}`));
    });
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  get alive(): boolean {
    return this.exited === null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** One line to the child's stdin: an object as JSON, a string as it is. */
  send(message: object | string): void {
    if (this.alive) this.proc.stdin!.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  }

  /** The next JSON line matching `pred`, or an error on timeout or exit. */
  wait(pred: (m: Msg) => boolean, timeoutMs: number, what: string): Promise<Msg> {
    const i = this.lines.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.lines.splice(i, 1)[0]!);
    if (!this.alive) return Promise.reject(new Error(`${this.name} ${this.exited ?? 'is gone'} while waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (m: Msg) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.name}: no answer for ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The next JSON line, whatever it is. */
  next(timeoutMs: number, what: string): Promise<Msg> {
    return this.wait(() => true, timeoutMs, what);
  }

  /** SIGTERM, wait up to `ms` for the exit, then SIGKILL. */
  async stop(ms: number): Promise<void> {
    if (!this.alive) return;
    const gone = new Promise<void>((r) => this.proc.once('close', () => r()));
    this.proc.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, ms))]);
    if (this.alive) {
      this.proc.kill('SIGKILL');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
    }
  }

  kill(): void {
    if (this.alive) this.proc.kill('SIGKILL');
  }
}

const CLK_TCK = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in seconds: all its threads, or only thread `tid` (its main thread when `tid` is `pid`). */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ", field 3 (state) is f[0]; utime is field 14, stime field 15
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Busy and total jiffies of the whole box (all CPUs), from /proc/stat. */
export function boxJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

export interface Mem {
  hwm: number;
  rss: number;
  anon: number;
  file: number;
}

/** VmHWM (peak RSS), VmRSS and its anonymous and file-backed parts, in MB. */
export function memMb(pid: number): Mem {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key: string) => round(Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024, 1);
  return { hwm: mb('VmHWM'), rss: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile') };
}
