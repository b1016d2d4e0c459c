/** Child processes speaking JSON lines, and /proc readings, for the ONVIF scale benchmark (and /proc for ingest). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type Msg = Record<string, unknown>;

export class Child {
  readonly proc: ChildProcess;
  private lines: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void; reject: (e: Error) => void }[] = [];
  private exited: string | null = null;
  private stderrTail = '';
  private forwarded = 0;

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
        return;
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
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name} ${this.exited}: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`));
    });
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  get alive(): boolean {
    return this.exited === null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  send(line: string): void {
    if (this.alive) this.proc.stdin!.write(line + '\n');
  }

  /** The next JSON line matching `pred` (bounded wait). */
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
        reject(new Error(`${this.name}: no ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** SIGTERM, wait up to `ms`, then SIGKILL. */
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
}

const CLK_TCK = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process (all threads), seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Busy and total jiffies of the whole box. */
export function boxJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/** VmHWM (peak) and VmRSS of a process, MB. */
export function memMb(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key: string) => Math.round((Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024) * 10) / 10;
  return { hwm: mb('VmHWM'), rss: mb('VmRSS') };
}
