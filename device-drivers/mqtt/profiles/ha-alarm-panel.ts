/**
 * Home Assistant-style alarm panel (docs/mqtt-contract.md, "Mapping profiles"):
 * topic `<baseTopic>/<sourceName>/state`, plain-text states. `armed_*` → armed
 * (mode), `disarmed` → disarmed, `triggered` → zone_alarm on zone 1, intrusion
 * (zone 0 is not allowed; the raw state is kept in `raw`), leaving `triggered`
 * restores it. `pending` and `arming` change nothing.
 */
import type { Profile } from './types.ts';

export const HA_ALARM_STATES = ['disarmed', 'armed_home', 'armed_away', 'armed_night', 'triggered', 'pending', 'arming'] as const;

const ARMED = ['armed_home', 'armed_away', 'armed_night'] as const;
const armedOther = (state: (typeof ARMED)[number]) => ['disarmed', ...ARMED.filter((s) => s !== state)];

export const HA_ALARM_PANEL: Profile = {
  name: 'ha_alarm_panel',
  payload: { format: 'text', field: 'state', values: HA_ALARM_STATES, what: 'a Home Assistant alarm state' },
  topicSuffix: '/state',
  ignore: [],
  rows: [
    { field: 'state', kind: 'armed', attrs: { mode: 'home' }, activeWhen: ['armed_home'], inactiveWhen: armedOther('armed_home'), restore: false },
    { field: 'state', kind: 'armed', attrs: { mode: 'away' }, activeWhen: ['armed_away'], inactiveWhen: armedOther('armed_away'), restore: false },
    { field: 'state', kind: 'armed', attrs: { mode: 'night' }, activeWhen: ['armed_night'], inactiveWhen: armedOther('armed_night'), restore: false },
    { field: 'state', kind: 'disarmed', attrs: {}, activeWhen: ['disarmed'], inactiveWhen: ARMED, restore: false },
    {
      field: 'state',
      kind: 'zone_alarm',
      attrs: { zone: 1, zoneType: 'intrusion' },
      source: '1',
      activeWhen: ['triggered'],
      inactiveWhen: ['disarmed', ...ARMED, 'pending', 'arming'],
    },
  ],
};
