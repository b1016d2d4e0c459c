import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Db } from '../../../gateway/store/db.ts';
import { openStore, tempDir } from '../../helpers/store.ts';
import { join } from 'node:path';
import { DB_NAME } from '../../../gateway/store/store.ts';

const t = tempDir('shouwang-kill9-');
afterAll(() => t.cleanup());

/** Run the appender, kill -9 it after `afterAcks` acknowledged appends plus a random delay; return what it acknowledged. */
function runAndKill(afterAcks: number): Promise<{ acked: Map<string, number>; sawUnclean: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/appender.ts', t.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Map<string, number>();
    let sawUnclean = false;
    let killing = false;
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('appender did not reach its acknowledgements within 30 s'));
    }, 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('ready')) return void (sawUnclean = line.endsWith('unclean'));
      const [seq, id] = line.split(' ');
      acked.set(id!, Number(seq));
      if (!killing && acked.size >= afterAcks) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 50));
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timeout);
      if (signal !== 'SIGKILL') reject(new Error(`appender exited by itself (${signal ?? _code})`));
      // Lines still in the pipe were written before the kill: read them all.
      setImmediate(() => resolve({ acked, sawUnclean }));
    });
  });
}

describe('kill -9 during a stream of appends', () => {
  it('keeps every acknowledged append, with strictly increasing sequences and an intact database, round after round', async () => {
    const allAcked = new Map<string, number>();
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const { acked, sawUnclean } = await runAndKill(200 + Math.floor(Math.random() * 3000));
      if (round > 0) expect(sawUnclean).toBe(true); // the previous run never closed the store
      for (const [id, seq] of acked) allAcked.set(id, seq);

      const db = await Db.open(join(t.dir, DB_NAME), { readonly: true });
      const integrity = await db.all<{ integrity_check: string }>('PRAGMA integrity_check');
      expect(integrity).toEqual([{ integrity_check: 'ok' }]);
      const rows = await db.all<{ seq: number; id: string }>('SELECT seq, id FROM events ORDER BY seq');
      const outbox = await db.all<{ seq: number; body: string }>('SELECT seq, body FROM outbox ORDER BY seq');
      await db.close();

      const present = new Map(rows.map((r) => [r.id, r.seq]));
      const missing = [...allAcked].filter(([id, seq]) => present.get(id) !== seq);
      expect(missing, `round ${round}: acknowledged appends missing after kill -9`).toEqual([]);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.seq).toBeGreaterThan(rows[i - 1]!.seq);
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      // Each event and its outbox entry were committed together: none without the other.
      expect(outbox.length).toBe(rows.length);
      expect(outbox.map((o) => o.seq)).toEqual(outbox.map((_, i) => i + 1));
    }
    expect(allAcked.size).toBeGreaterThan(rounds * 200);
    // A clean open after all that continues the sequence.
    const store = await openStore(t.dir);
    expect(store.uncleanShutdown).toBe(true);
    const last = Math.max(...allAcked.values());
    expect(store.events.lastSeq()).toBeGreaterThanOrEqual(last);
    await store.close();
  }, 120_000);
});
