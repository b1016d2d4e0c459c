/**
 * A small typed bus. Emitting never throws into the emitter: a listener that
 * fails is reported through onError and the others still run, so one broken
 * feature cannot stall the hot path.
 */
export type Listener<T> = (payload: T) => void;

export class Bus<Topics extends Record<string, unknown>> {
  private listeners = new Map<keyof Topics, Set<Listener<never>>>();

  constructor(private readonly onError: (topic: string, err: unknown) => void = () => {}) {}

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends keyof Topics>(topic: K, fn: Listener<Topics[K]>): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => void set.delete(fn as Listener<never>);
  }

  emit<K extends keyof Topics>(topic: K, payload: Topics[K]): void {
    const set = this.listeners.get(topic);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<Topics[K]>)(payload);
      } catch (err) {
        this.onError(String(topic), err);
      }
    }
  }

  listenerCount(topic: keyof Topics): number {
    return this.listeners.get(topic)?.size ?? 0;
  }
}
