/**
 * The event client's timings. Defaults follow what works in production for
 * Home Assistant (10-minute subscriptions, renewed ahead of time, 60-second
 * long polls, MessageLimit 100) and protocols.md §1.11; the backoff never
 * lets a failing camera see more than a few requests a minute.
 */
export interface OnvifTuning {
  /** Lifetime asked for a subscription (InitialTerminationTime / Renew). */
  subscriptionMs: number;
  /** Renew when less than this is left (and always before a pull could outlast the subscription). */
  renewMarginMs: number;
  /** PullMessages Timeout: how long the camera may hold a pull. */
  pullTimeoutMs: number;
  /** The socket timeout of a pull is the pull timeout plus this. */
  pullSlackMs: number;
  messageLimit: number;
  /** Timeout of every other SOAP call. */
  requestTimeoutMs: number;
  /** How often a sync point checks that a quiet subscription still delivers (0: never). */
  syncCheckMs: number;
  /** How many pulls after a sync point may pass without its Initialized messages before the channel counts as dead. */
  syncCheckPulls: number;
  /** How often the camera clock is read again. */
  timeCheckMs: number;
  /** A camera clock off by more than this is reported (clock_skew) and its timestamps are not trusted. */
  clockSkewThresholdMs: number;
  /** Consecutive refused logins after which the box stops trying (auth_failed) instead of locking the account. */
  authFailuresBeforeStop: number;
  /** After stopping, one single login attempt this often (0: never again until restart). */
  authRetryAfterMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Backoff cap while the camera does not answer at all (the probe is an unauthenticated clock read). */
  unreachableCapMs: number;
  /** Wait after a "too many subscriptions" refusal (leaked subscriptions expire by then). */
  capWaitMs: number;
  /** Device-service heartbeat for cameras without an event subscription. */
  heartbeatMs: number;
  /** Consecutive event-channel failures (while the camera answers) before event_channel_lost. */
  channelFailuresBeforeLost: number;
  /** Retry of a sink.emit that failed (the store was busy); the next pull waits for it. */
  emitRetryMs: number;
  /** Pause after a pull that came back empty long before its timeout (a camera ignoring the long poll). */
  earlyEmptyPauseMs: number;
  /** Spread the first connection of each camera by this much (300 cameras do not all start at once). */
  startSpreadMs: number;
}

export const DEFAULT_TUNING: OnvifTuning = {
  subscriptionMs: 10 * 60_000,
  renewMarginMs: 2 * 60_000,
  pullTimeoutMs: 60_000,
  pullSlackMs: 20_000,
  messageLimit: 100,
  requestTimeoutMs: 10_000,
  syncCheckMs: 5 * 60_000,
  syncCheckPulls: 2,
  timeCheckMs: 15 * 60_000,
  clockSkewThresholdMs: 5_000,
  authFailuresBeforeStop: 3,
  authRetryAfterMs: 30 * 60_000,
  backoffBaseMs: 2_000,
  backoffCapMs: 5 * 60_000,
  unreachableCapMs: 60_000,
  capWaitMs: 10 * 60_000,
  heartbeatMs: 60_000,
  channelFailuresBeforeLost: 2,
  emitRetryMs: 1_000,
  earlyEmptyPauseMs: 1_000,
  startSpreadMs: 20,
};
