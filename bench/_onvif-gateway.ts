/**
 * Gateway side of the ONVIF scale benchmark, run by `bench/onvif-scale.ts` in its own process:
 *
 *   node --import tsx bench/_onvif-gateway.ts --data DIR --site site.json
 *
 * The whole gateway (App) with the site's cameras. Prints `{"ready":true}` once started. A line
 * `stats` on stdin answers one JSON line: subscriptions active, cameras reachable, motion events
 * stored since the last `stats` and their latency from the camera's event time (the simulator's emit
 * time, same host clock) to the commit (the store's `event.stored`), event-loop utilization, and the
 * peaks of process.memoryUsage() since the last `stats` (sampled every 100 ms: what of RSS is JS heap).
 * SIGTERM stops it cleanly (`{"stopped":true}`).
 */
import { readFileSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { parseConfig } from '../config/load.ts';
import { App } from '../gateway/app.ts';
import { memoryPeaks } from './_memory-peaks.ts';

const MAX_LIFE_MS = 15 * 60_000;
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

async function run(argv: string[]): Promise<void> {
  const arg = (k: string) => {
    const i = argv.indexOf(k);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (!v) throw new Error(`_onvif-gateway: ${k} is required`);
    return v;
  };
  const parsed = parseConfig(JSON.parse(readFileSync(arg('--site'), 'utf8')));
  if (!parsed.ok) throw new Error(`bench site invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
  const log = pino({ level: 'warn' }, pino.destination(2));
  const app = new App({ config: parsed.config, dataDir: arg('--data'), log, version: 'bench', httpPort: 0, brokerPort: 0 });
  let latencies: number[] = [];
  let stored = 0;
  app.bus.on('event.stored', (e) => {
    if (e.kind !== 'motion' || e.initial || e.deviceTime === null) return;
    stored++;
    latencies.push(Date.now() - e.deviceTime);
  });
  await app.start();
  say({ ready: true, pid: process.pid });

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    const t0 = performance.now();
    let error: string | null = null;
    try {
      await app.stop();
    } catch (err) {
      error = (err as Error).message;
    }
    say({ stopped: true, why, stop_ms: Math.round(performance.now() - t0), error });
    process.exit(error ? 1 : 0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  setTimeout(() => void shutdown('max life'), MAX_LIFE_MS).unref();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  const peaks = memoryPeaks();
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'stats') return;
    const health = app.onvif.health();
    const now = performance.eventLoopUtilization();
    say({
      stats: true,
      subscriptions_active: app.onvif.activeSubscriptions(),
      reachable: health.filter((h) => h.reachable).length,
      alive: health.filter((h) => h.eventChannel === 'alive').length,
      stored,
      latencies,
      elu: Math.round(performance.eventLoopUtilization(now, elu).utilization * 1000) / 1000,
      heap_used_mb: Math.round(process.memoryUsage().heapUsed / 1048576),
      peak_mb: peaks.take(),
    });
    latencies = [];
    stored = 0;
    elu = now;
  });
}

run(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
