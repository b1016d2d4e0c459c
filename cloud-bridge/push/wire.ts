/**
 * The upstream wire format, the same over HTTP and MQTT.
 *
 *   request:  { boxId, batchId, sentAt, envelopes: Envelope[] }
 *   ack:      { batchId?, accepted: id[], rejected: { id, reason, retryable? }[] }
 *
 * Only the ack moves entries: an id in `accepted` leaves the outbox, an id in
 * `rejected` goes to dead-letter with the reason (or, when `retryable`, counts
 * an attempt), and an id the ack does not name is simply sent again.
 */
import { z } from 'zod';
import { uuidv7 } from '../../gateway/core/ids.ts';
import type { Envelope, OutboxEntry } from '../../gateway/core/outbox.ts';

export interface Batch {
  boxId: string;
  batchId: string;
  sentAt: string;
  envelopes: Envelope[];
}

export function toEnvelope(e: OutboxEntry, boxId: string, sentAt: string): Envelope {
  return { boxId, seq: e.seq, id: e.id, type: e.type, lane: e.lane, occurredAt: new Date(e.occurredAt).toISOString(), sentAt, body: e.body };
}

export function makeBatch(entries: readonly OutboxEntry[], boxId: string, now: number): Batch {
  const sentAt = new Date(now).toISOString();
  return { boxId, batchId: uuidv7(now), sentAt, envelopes: entries.map((e) => toEnvelope(e, boxId, sentAt)) };
}

export const AckSchema = z.object({
  batchId: z.string().optional(),
  accepted: z.array(z.string()).default([]),
  rejected: z.array(z.object({ id: z.string(), reason: z.string().max(2000).default('no reason given'), retryable: z.boolean().default(false) })).default([]),
});
export type Ack = z.output<typeof AckSchema>;

/** Parse an ack body; null (with why) when it is not one. */
export function parseAck(text: string): { ok: true; ack: Ack } | { ok: false; why: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, why: `not JSON: ${JSON.stringify(text.slice(0, 120))}` };
  }
  const r = AckSchema.safeParse(json);
  if (!r.success) return { ok: false, why: `not an ack (${r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')})` };
  return { ok: true, ack: r.data };
}

/**
 * What one send came to.
 * - ack: the county answered for (some of) the ids.
 * - unavailable: nothing was decided (down, 5xx, timeout, 429, refused credentials): back off and send again.
 * - refused: the county refused the batch as a whole (a 4xx such as 400 or 413): split it to find the entry it objects to.
 */
export type SendOutcome =
  | { kind: 'ack'; ack: Ack; rttMs: number }
  | { kind: 'unavailable'; reason: string; retryAfterMs?: number; status?: number; auth?: boolean; pushback?: boolean }
  | { kind: 'refused'; status: number; reason: string };

export interface Transport {
  readonly name: string;
  start(): Promise<void>;
  send(batch: Batch): Promise<SendOutcome>;
  stop(): Promise<void>;
}
