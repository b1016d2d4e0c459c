import type { Lane } from './events.ts';

/**
 * What must reach the county. `seq` is per box and gapless over everything
 * the box ever enqueued, so a receiver can see gaps; `id` lets it drop
 * duplicates. Within a lane, entries leave in seq order.
 */
export const ENVELOPE_TYPES = ['alarm.opened', 'alarm.updated', 'event', 'device.status', 'box.heartbeat', 'box.loss'] as const;
export type EnvelopeType = (typeof ENVELOPE_TYPES)[number];

export interface OutboxEntry {
  seq: number;
  id: string;
  lane: Lane;
  type: EnvelopeType;
  occurredAt: number;
  body: unknown;
  attempts: number;
  nextTryAt: number;
  lastError: string | null;
}

export interface NewOutboxEntry {
  id?: string;
  lane: Lane;
  type: EnvelopeType;
  occurredAt: number;
  body: unknown;
}

/** The wire form the bridge sends (sentAt is stamped at send time). */
export interface Envelope {
  boxId: string;
  seq: number;
  id: string;
  type: EnvelopeType;
  /** The outbox lane it travelled in (alarm, record, status): the receiver's priority hint. */
  lane: Lane;
  occurredAt: string;
  sentAt: string;
  body: unknown;
}

/**
 * The port the cloud bridge drains through. A single consumer per box: it
 * asks for a batch, sends it, then acks, fails or dead-letters its ids.
 */
export interface NextOptions {
  /** Share of the batch kept for each lower lane that has entries (default: the store's). 0: strictly by lane. */
  fairShare?: number;
}

export interface Outbox {
  next(limit: number, opts?: NextOptions): Promise<OutboxEntry[]>;
  /** The receiver confirmed these ids: they leave the outbox. */
  ack(ids: readonly string[]): Promise<number>;
  /** Entry-level failure: count an attempt, back off; dead-letter after the configured maximum. */
  fail(ids: readonly string[], reason: string): Promise<void>;
  /** Permanently refused by the receiver: park with the reason, visible to the installer. */
  deadLetter(ids: readonly string[], reason: string): Promise<void>;
}

/** Jittered exponential backoff: base·2^(attempt-1), capped, with ±50% jitter so boxes do not retry in step. */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 300_000, random: () => number = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() * 0.5));
}
