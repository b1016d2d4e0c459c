import { describe, expect, it } from 'vitest';
import { Accounting, CountyReceiver, type Envelope } from '../../../simulators/county-platform/index.ts';

const TOKEN = 'receipts-token';

const envelope = (seq: number, extra: Partial<Envelope> = {}): Envelope => ({
  boxId: 'sw-r1',
  seq,
  id: `ev-${seq}`,
  type: 'event',
  lane: 'record',
  occurredAt: new Date().toISOString(),
  sentAt: new Date().toISOString(),
  body: { kind: 'access_granted', deviceTime: 1_700_000_000_000 + seq },
  ...extra,
});

async function post(county: CountyReceiver, envelopes: unknown[]): Promise<{ accepted: string[] }> {
  const r = await fetch(county.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ boxId: 'sw-r1', batchId: 'b', sentAt: new Date().toISOString(), envelopes }),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as { accepted: string[] };
}

describe('county accounting: per-envelope receipts', () => {
  it('reports each envelope once, on its first receipt, with its arrival time; not duplicates, refusals or what a partial batch left out', async () => {
    const seen: { id: string; deviceTime: unknown; arrival: number }[] = [];
    const accounting = new Accounting({
      onReceipt: (e, arrival) => seen.push({ id: e.id, deviceTime: (e.body as { deviceTime?: unknown }).deviceTime, arrival }),
    });
    const county = await new CountyReceiver({ tokens: [TOKEN], accounting }).start();
    try {
      const before = Date.now();
      await post(county, [envelope(1), envelope(2)]);
      const after = Date.now();
      expect(seen.map((s) => s.id)).toEqual(['ev-1', 'ev-2']);
      expect(seen[0]!.deviceTime).toBe(1_700_000_000_001);
      for (const s of seen) {
        expect(s.arrival).toBeGreaterThanOrEqual(before);
        expect(s.arrival).toBeLessThanOrEqual(after);
      }

      // A resend is acked again but not reported again; an invalid envelope is refused and not reported.
      const ack = await post(county, [envelope(2), envelope(3, { lane: 'nowhere' as Envelope['lane'] }), envelope(4)]);
      expect(ack.accepted).toEqual(['ev-2', 'ev-4']);
      expect(seen.map((s) => s.id)).toEqual(['ev-1', 'ev-2', 'ev-4']);

      // Partial mode: what is left out of the ack is not reported, and is reported when it comes again and is taken.
      await county.setMode('partial', { partialShare: 0 });
      expect((await post(county, [envelope(5)])).accepted).toEqual([]);
      expect(seen).toHaveLength(3);
      await county.setMode('healthy');
      await post(county, [envelope(5)]);
      expect(seen.map((s) => s.id)).toEqual(['ev-1', 'ev-2', 'ev-4', 'ev-5']);
      expect(accounting.report().boxes[0]).toMatchObject({ received: 4, duplicates: 1, rejected: 1 });
    } finally {
      await county.stop();
    }
  });
});
