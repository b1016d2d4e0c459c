/**
 * Camera event subscriptions the box holds, remembered across restarts. A
 * gateway that crashes (or loses power) cannot Unsubscribe: its PullPoint
 * subscription stays on the camera until it terminates, taking one of the
 * camera's few slots and queueing what happens meanwhile. The next run renews
 * it and pulls that queue instead of opening another. Drivers get this port
 * from app.ts; the store keeps it.
 */
export interface HeldSubscription {
  deviceId: string;
  /** The pull point's address (as the box reaches it). */
  address: string;
  /** ReferenceParameters to echo as SOAP headers, raw XML, and the namespaces their prefixes need. */
  referenceParameters: string;
  namespaces: Record<string, string>;
  /** Box time it was created. */
  createdAt: number;
}

export interface SubscriptionMemory {
  /** Every subscription a previous run left held, by device. */
  recall(): Promise<Map<string, HeldSubscription>>;
  /** Resolves once durable: a crash from here on finds it. */
  remember(s: HeldSubscription): Promise<void>;
  /** The box no longer holds it (unsubscribed, or the camera dropped it). */
  forget(deviceId: string): Promise<void>;
}
