import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../gateway/core/outbox.ts';
import { parseDateTime, parseDuration, posixTzOffsetMinutes, readSystemDateAndTime, toDuration } from '../../../device-drivers/onvif/time.ts';
import { rewriteUrl } from '../../../device-drivers/onvif/urls.ts';
import { referenceParameters } from '../../../device-drivers/onvif/pullpoint.ts';
import { parseXml, path } from '../../../device-drivers/onvif/xml.ts';

describe('ONVIF time values', () => {
  it('reads durations and writes whole seconds', () => {
    expect(parseDuration('PT60S')).toBe(60_000);
    expect(parseDuration('PT1M30S')).toBe(90_000);
    expect(parseDuration('PT10M')).toBe(600_000);
    expect(parseDuration('P1DT2H')).toBe(93_600_000);
    expect(parseDuration('PT0.5S')).toBe(500);
    expect(parseDuration('60')).toBeNull();
    expect(parseDuration('PT')).toBeNull();
    expect(toDuration(600_000)).toBe('PT600S');
  });

  it('reads event times with zones and refuses impossible ones', () => {
    expect(parseDateTime('2026-11-21T02:00:00Z')).toBe(Date.UTC(2026, 10, 21, 2));
    expect(parseDateTime('2026-11-21T10:00:00+08:00')).toBe(Date.UTC(2026, 10, 21, 2));
    expect(parseDateTime('2026-11-21T02:00:00.125Z')).toBe(Date.UTC(2026, 10, 21, 2, 0, 0, 125));
    expect(parseDateTime('2026-11-21T02:00:00')).toBe(Date.UTC(2026, 10, 21, 2)); // no zone: UTC, as ONVIF means
    expect(parseDateTime('0000-00-00T00:00:00Z')).toBeNull();
    expect(parseDateTime('1970-01-01T00:00:00Z')).toBeNull();
    expect(parseDateTime(undefined)).toBeNull();
  });

  it('reads GetSystemDateAndTime, falling back to local time and the POSIX zone when UTC is missing', () => {
    const body = (inner: string) =>
      path(
        parseXml(
          `<s:Envelope xmlns:s="x" xmlns:tds="y" xmlns:tt="z"><s:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>${inner}</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></s:Body></s:Envelope>`,
        ),
        'Envelope',
        'Body',
        'GetSystemDateAndTimeResponse',
      );
    const dt = (h: number) =>
      `<tt:Time><tt:Hour>${h}</tt:Hour><tt:Minute>5</tt:Minute><tt:Second>9</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year><tt:Month>11</tt:Month><tt:Day>21</tt:Day></tt:Date>`;
    expect(readSystemDateAndTime(body(`<tt:UTCDateTime>${dt(2)}</tt:UTCDateTime>`))).toEqual({
      utcMs: Date.UTC(2026, 10, 21, 2, 5, 9),
      type: 'Manual',
      fromLocal: false,
    });
    expect(readSystemDateAndTime(body(`<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:LocalDateTime>${dt(10)}</tt:LocalDateTime>`))).toMatchObject({
      utcMs: Date.UTC(2026, 10, 21, 2, 5, 9),
      fromLocal: true,
    });
    expect(readSystemDateAndTime(body(''))).toBeNull(); // cheap cameras that give no date
    expect(posixTzOffsetMinutes('CST-8')).toBe(480);
    expect(posixTzOffsetMinutes('EST5EDT')).toBe(-300);
  });

  it('backs off exponentially with jitter, capped', () => {
    const lo = (n: number) => backoffMs(n, 2000, 300_000, () => 0);
    const hi = (n: number) => backoffMs(n, 2000, 300_000, () => 0.999999);
    expect([1, 2, 3, 4].map(lo)).toEqual([1000, 2000, 4000, 8000]);
    expect(hi(20)).toBeLessThanOrEqual(300_000);
    expect(lo(20)).toBe(150_000);
  });
});

describe('addresses the camera gives', () => {
  it('points them at the configured host (cameras behind NAT report their LAN address)', () => {
    expect(rewriteUrl('http://192.168.1.64/onvif/Events', '10.0.0.5', 8080)).toBe('http://10.0.0.5:8080/onvif/Events');
    expect(rewriteUrl('rtsp://192.168.1.64:554/Streaming/Channels/101?x=1', '10.0.0.5', 8080)).toBe('rtsp://10.0.0.5:554/Streaming/Channels/101?x=1');
    expect(rewriteUrl('http://127.0.0.1:18081/onvif/events_service', '127.0.0.1', 18081)).toBe('http://127.0.0.1:18081/onvif/events_service');
  });

  it('keeps a subscription’s reference parameters (Axis SubscriptionId) with their namespaces, to echo them', () => {
    const raw =
      '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa5="http://www.w3.org/2005/08/addressing" xmlns:dom0="http://www.axis.com/2009/event"><SOAP-ENV:Body>' +
      '<tev:CreatePullPointSubscriptionResponse xmlns:tev="http://www.onvif.org/ver10/events/wsdl"><tev:SubscriptionReference><wsa5:Address>http://cam/onvif/services</wsa5:Address>' +
      '<wsa5:ReferenceParameters><dom0:SubscriptionId>42</dom0:SubscriptionId></wsa5:ReferenceParameters></tev:SubscriptionReference></tev:CreatePullPointSubscriptionResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>';
    expect(referenceParameters(raw)).toEqual({ xml: '<dom0:SubscriptionId>42</dom0:SubscriptionId>', namespaces: { dom0: 'http://www.axis.com/2009/event' } });
    expect(referenceParameters('<x><a:ReferenceParameters/></x>')).toEqual({ xml: '', namespaces: {} });
  });
});
