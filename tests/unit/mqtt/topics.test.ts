import { describe, expect, it } from 'vitest';
import { parseTopic, PREFIX, topicsFor } from '../../../device-drivers/mqtt/topics.ts';

describe('topics', () => {
  it('are all under sw/v1/<id>/', () => {
    expect(PREFIX).toBe('sw/v1');
    expect(topicsFor('door-3-1')).toEqual({
      event: 'sw/v1/door-3-1/event',
      state: 'sw/v1/door-3-1/state',
      status: 'sw/v1/door-3-1/status',
      cmd: 'sw/v1/door-3-1/cmd',
      cmdAck: 'sw/v1/door-3-1/cmd/ack',
    });
  });

  it('parse back into device and channel', () => {
    const t = topicsFor('panel-1');
    expect(parseTopic(t.event)).toEqual({ deviceId: 'panel-1', channel: 'event' });
    expect(parseTopic(t.state)).toEqual({ deviceId: 'panel-1', channel: 'state' });
    expect(parseTopic(t.status)).toEqual({ deviceId: 'panel-1', channel: 'status' });
    expect(parseTopic(t.cmd)).toEqual({ deviceId: 'panel-1', channel: 'cmd' });
    expect(parseTopic(t.cmdAck)).toEqual({ deviceId: 'panel-1', channel: 'cmd/ack' });
  });

  it.each([
    'sw/v1/panel-1/event/extra',
    'sw/v1/panel-1/cmd/ack/more',
    'sw/v1/panel-1/cmd/nack',
    'sw/v1//event',
    'sw/v1/+/event',
    'sw/v1/#',
    'sw/v1/panel-1/#',
    'sw/v1/panel-1/+',
    'sw/v1/panel-1/other',
    'sw/v1/panel-1',
    'sw/v2/panel-1/event',
    '/sw/v1/panel-1/event',
    '$SYS/broker/clients',
    'zigbee2mqtt/hall_door',
    '',
  ])('reject %j', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });
});
