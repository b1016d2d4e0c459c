/** MQTT device simulators: honest wire-level peers of docs/mqtt-contract.md (no gateway code). */
export { startMqttDevices, SimEstate, type EstateStats } from './estate.ts';
export { SimDevice } from './device.ts';
export { specsFromSite, type SpecsFromSiteOptions } from './site.ts';
export { runScenario, parseScenario, loadScenarioFile, SCENARIO_ACTIONS } from './scenario.ts';
export type { Scenario, ScenarioStep, ScenarioReport, StepOutcome, RunScenarioOptions, ScenarioAction } from './scenario.ts';
export { badMessage, sendBadPayload, flood, startFault, BAD_PAYLOAD_KINDS, FAULT_MODES, CONTRACT_PAYLOAD_LIMIT } from './faults.ts';
export type { BadPayloadKind, FaultMode, FaultRun, FaultOptions, FloodResult } from './faults.ts';
export { localHour, doorRate, MAX_EVENTS_PER_SECOND } from './traffic.ts';
export { parseDuration, seededRandom } from './util.ts';
export { SIM_DEVICE_KINDS } from './types.ts';
export type * from './types.ts';
