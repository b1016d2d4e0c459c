/**
 * A part of the gateway with a lifecycle. app.ts starts components in order
 * and stops them in reverse; a component removes its own listeners and timers
 * on stop.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
