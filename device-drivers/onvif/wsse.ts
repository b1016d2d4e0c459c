import { createHash, randomBytes } from 'node:crypto';
import { esc } from './xml.ts';

/**
 * WS-Security UsernameToken with PasswordDigest, as ONVIF cameras expect:
 * Base64(SHA1(nonce ‖ Created ‖ password)), Created in *camera* UTC so a
 * camera whose clock is off does not refuse the token.
 */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/** ISO 8601 UTC without milliseconds (some cameras refuse fractional seconds). */
export function wsseTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function usernameToken(username: string, password: string, cameraNowMs: number, nonce: Buffer = randomBytes(16)): string {
  const created = wsseTime(cameraNowMs);
  return (
    '<wsse:Security s:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ' +
    'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>' +
    `<wsse:Username>${esc(username)}</wsse:Username>` +
    '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">' +
    `${passwordDigest(nonce, created, password)}</wsse:Password>` +
    '<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">' +
    `${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}
