import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort, waitForHttp } from '../../helpers/cli.ts';

describe('npm run sim -- county', () => {
  it('receives batches, refuses a bad token, serves its accounting as JSON, and prints it on exit', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulators/run.ts', 'county', '--port', String(port), '--token', 'sim-token-1', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      const envelope = (seq: number) => ({
        boxId: 'sw-1',
        seq,
        id: `id-${seq}`,
        type: 'event',
        lane: 'record',
        occurredAt: new Date().toISOString(),
        sentAt: new Date().toISOString(),
        body: { kind: 'access_granted' },
      });
      const send = (token: string, seqs: number[]) =>
        fetch(`http://127.0.0.1:${port}/api/v1/ingest`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ boxId: 'sw-1', batchId: 'b1', sentAt: new Date().toISOString(), envelopes: seqs.map(envelope) }),
        });
      expect((await send('wrong-token', [1])).status).toBe(401);
      const ack = await (await send('sim-token-1', [1, 2, 4])).json();
      expect(ack).toEqual({ batchId: 'b1', accepted: ['id-1', 'id-2', 'id-4'], rejected: [] });
      await send('sim-token-1', [2]);
      const acc = (await (await fetch(`http://127.0.0.1:${port}/accounting`)).json()) as { boxes: Record<string, unknown>[] };
      expect(acc.boxes[0]).toMatchObject({ boxId: 'sw-1', received: 3, duplicates: 1, highestContiguousSeq: 2, gaps: 1, gapRanges: [[3, 3]] });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as { boxes: { received: number }[] };
    expect(last.boxes[0]!.received).toBe(3);
  });

  it('explains a bad option', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulators/run.ts', 'county', '--mode', 'sleepy'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/--mode: expected one of healthy, down, slow, flaky, partial, lost-acks, throttle, strict, got "sleepy"/);
  });
});
