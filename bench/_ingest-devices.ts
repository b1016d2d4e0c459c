/**
 * The ingest benchmark's device ids and demo passwords, shared by the load generators and the brokers under
 * test. A module of its own so that a broker process does not load the load generators' MQTT client library.
 */
export const deviceId = (i: number): string => `door-${String(i).padStart(4, '0')}`;
export const devicePassword = (id: string): string => `${id}-demo`;
