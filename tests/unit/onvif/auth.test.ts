import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseAuthParams, parseDigestChallenge } from '../../../device-drivers/onvif/digest.ts';
import { isAuthFault, readFault } from '../../../device-drivers/onvif/soap.ts';
import { passwordDigest, usernameToken } from '../../../device-drivers/onvif/wsse.ts';
import { parseXml, path } from '../../../device-drivers/onvif/xml.ts';

describe('WS-Security UsernameToken', () => {
  it('computes the PasswordDigest of the ONVIF Application Programmer’s Guide example', () => {
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    expect(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword')).toBe('tuOSpGlFlIXsozq4HFNeeGeFLEI=');
  });

  it('signs with the camera time it is given, to the second, and escapes the user name', () => {
    const xml = usernameToken('a&b', 'pw', Date.UTC(2026, 10, 21, 3, 0, 0, 987), Buffer.alloc(16, 1));
    expect(xml).toContain('<wsu:Created>2026-11-21T03:00:00Z</wsu:Created>');
    expect(xml).toContain('<wsse:Username>a&amp;b</wsse:Username>');
  });
});

describe('HTTP Digest', () => {
  it('reproduces the RFC 2617 example response', () => {
    const c = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    )!;
    expect(c).toMatchObject({ realm: 'testrealm@host.com', qop: 'auth', algorithm: 'MD5' });
    const h = digestAuthorization(c, {
      username: 'Mufasa',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(h).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(h).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('reproduces the RFC 7616 SHA-256 example response', () => {
    const c = parseDigestChallenge(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    )!;
    const h = digestAuthorization(c, {
      username: 'Mufasa',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    });
    expect(h).toContain('response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"');
  });

  it('reads quoted values holding "=" and "," (base64 nonces, realms with commas) where node-onvif’s parser breaks', () => {
    const c = parseDigestChallenge('Digest realm="IPC, Building 3", nonce="bm9uY2U9PT0=", qop="auth", stale=TRUE')!;
    expect(c).toMatchObject({ realm: 'IPC, Building 3', nonce: 'bm9uY2U9PT0=', stale: true });
    expect(parseAuthParams('a="x\\"y", b=plain , c=""')).toEqual(
      new Map([
        ['a', 'x"y'],
        ['b', 'plain'],
        ['c', ''],
      ]),
    );
    expect(parseDigestChallenge('Basic realm="x"')).toBeNull();
    expect(parseDigestChallenge('Digest realm="x", nonce="n", qop="auth-int"')).toBeNull(); // nothing we can answer
  });
});

describe('SOAP faults', () => {
  const fault = (code: string, sub: string, reason: string) =>
    path(
      parseXml(
        `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>${code}</s:Value><s:Subcode><s:Value>${sub}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`,
      ),
      'Envelope',
      'Body',
      'Fault',
    )!;

  it('tells refused logins from other faults', () => {
    expect(isAuthFault(readFault(fault('s:Sender', 'ter:NotAuthorized', 'Sender not Authorized')))).toBe(true);
    expect(isAuthFault(readFault(fault('s:Sender', 'ter:InvalidArgVal', 'The device is locked because of entering wrong username/password')))).toBe(true);
    expect(isAuthFault(readFault(fault('s:Receiver', 'ter:ActionNotSupported', 'not supported')))).toBe(false);
    expect(readFault(fault('s:Sender', 'wsrf:ResourceUnknownFault', 'gone'))).toEqual({
      code: 's:Sender',
      subcode: 'wsrf:ResourceUnknownFault',
      reason: 'gone',
    });
  });
});
