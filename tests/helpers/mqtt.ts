import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** Connect an mqtt.js client (MQTT 3.1.1) and resolve on CONNACK, or reject with the refusal. */
export function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

export function publish(c: MqttClient, topic: string, payload: string | Buffer, qos: 0 | 1 = 1, retain = false): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve())));
}

export function end(c: MqttClient): Promise<void> {
  return new Promise((resolve) => c.end(false, {}, () => resolve()));
}
