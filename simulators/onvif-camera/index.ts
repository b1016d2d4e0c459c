/** The ONVIF camera simulator: every camera of a site in one process (see simulators/README.md). */
export { SimCamera, uuidFrom, type CameraStats, type CameraFaults, type Subscription } from './camera.ts';
export { CameraFarm, startCameras, type StartCamerasOptions } from './farm.ts';
export { DiscoveryResponder, WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT, type DiscoveryOptions } from './discovery.ts';
export { startTraffic, type CameraTraffic } from './traffic.ts';
export { parseScript, loadScript, runScript, type ScriptStep } from './script.ts';
export { cameraSpecsFromSite, type CameraSpecsOptions } from './site.ts';
export { snapshotJpeg } from './jpeg.ts';
export { FLAVOURS, SIM_EVENT_TYPES, realClock, type CameraSpec, type Flavour, type SimClock, type SimEvent, type SimEventType } from './types.ts';
