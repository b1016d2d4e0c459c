/**
 * The port between the embedded broker (gateway/broker) and the MQTT driver
 * (device-drivers/mqtt). The broker decides who may connect, publish and
 * subscribe; the driver decides what a message means. An inbound publish is
 * acknowledged to its device only when the driver's handler resolves — after
 * the event is committed — and the connection is dropped when it rejects, so
 * the device resends.
 */
export type Principal = { kind: 'device'; id: string } | { kind: 'bridge'; id: string };

export interface InboundPublish {
  principal: Principal;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** The MQTT DUP flag: the device sends this message again (it saw no PUBACK for it). */
  dup: boolean;
  /** The box's receive time, epoch ms. */
  receivedAt: number;
}

export type ClientChange =
  | { type: 'connected'; principal: Principal; address: string | null; at: number }
  | { type: 'disconnected'; principal: Principal; reason: 'closed' | 'keepalive_timeout' | 'error' | 'replaced'; at: number };

export interface MqttTransport {
  /** Install the one handler for authorized inbound publishes. */
  onInbound(handler: (msg: InboundPublish) => Promise<void>): void;
  /** Told of connects and disconnects; returns the unsubscribe function. */
  onClientChange(listener: (change: ClientChange) => void): () => void;
  /** Publish from the box (commands); resolves when handed to the broker's router. */
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  connected(principalId: string): boolean;
}
