/**
 * zigbee2mqtt (docs/mqtt-contract.md, "Mapping profiles"): topic
 * `<baseTopic>/<friendly_name>`, a JSON object with the device's whole state,
 * republished on every update (the engine turns only changes into events).
 * zigbee2mqtt gives no device time: events carry the box's receive time only.
 */
import type { Profile } from './types.ts';

export const ZIGBEE2MQTT: Profile = {
  name: 'zigbee2mqtt',
  payload: { format: 'json' },
  topicSuffix: '',
  ignore: [
    /^bridge(\/|$)/, // the bridge's own state, logging, requests
    /\/(set|get|availability)(\/.*)?$/, // commands to a device and its availability
  ],
  rows: [
    { field: 'contact', kind: 'contact', attrs: {}, activeWhen: [false], inactiveWhen: [true] }, // contact: false = open
    { field: 'occupancy', kind: 'occupancy', attrs: {}, activeWhen: [true], inactiveWhen: [false] },
    { field: 'smoke', kind: 'smoke', attrs: {}, activeWhen: [true], inactiveWhen: [false] },
    { field: 'water_leak', kind: 'water_leak', attrs: {}, activeWhen: [true], inactiveWhen: [false] },
    { field: 'tamper', kind: 'tamper', attrs: {}, activeWhen: [true], inactiveWhen: [false] },
    { field: 'battery_low', kind: 'battery_low', attrs: {}, attrsFrom: { percent: 'battery' }, activeWhen: [true], inactiveWhen: [false] },
    { field: 'action', kind: 'sos', attrs: {}, activeWhen: ['emergency', 'panic', 'sos'], momentary: true },
  ],
};
