/**
 * A child process for the kill -9 test: opens the store in the folder given
 * and appends without pause, 64 in flight, printing "<seq> <id>" for each
 * append only after its promise resolved (that is, after its commit).
 */
import { openStore, sampleEvent } from './store.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: appender.ts <data dir>');
const store = await openStore(dir);
process.stdout.write(`ready ${store.uncleanShutdown ? 'unclean' : 'clean'}\n`);
const kinds = ['zone_alarm', 'access_granted', 'motion'] as const;
let n = 0;
async function worker(): Promise<void> {
  for (;;) {
    const kind = kinds[n++ % kinds.length]!;
    const r = await store.events.append(sampleEvent(kind, `dev-${n % 7}`), {
      forward: (e) => ({ lane: e.lane, type: 'event', occurredAt: e.receivedAt, body: { id: e.id } }),
    });
    if (r.stored) process.stdout.write(`${r.seq} ${r.id}\n`);
  }
}
await Promise.all(Array.from({ length: 64 }, worker));
