/**
 * The ONVIF driver and what the installer panel calls (docs/onvif.md):
 * `discover()` — WS-Discovery; `probeCamera()` — one look at a camera.
 */
export { OnvifDriver, type OnvifDriverOptions } from './driver.ts';
export { discover, type DiscoverOptions, type DiscoveredCamera } from './discovery.ts';
export { probeCamera, type ProbeOptions, type ProbeReport } from './probe.ts';
export { CameraAdapter, type CameraInfo, type CameraProfile, type CameraDescription } from './adapter.ts';
export { OnvifError, type OnvifErrorKind } from './errors.ts';
export { TOPIC_TABLE, TOPIC_CLEANUPS, STATE_VALUES, type TopicRow } from './topics.ts';
export { DEFAULT_TUNING, type OnvifTuning } from './tuning.ts';
