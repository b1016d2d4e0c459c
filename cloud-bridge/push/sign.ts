import { createHmac, randomBytes } from 'node:crypto';

/**
 * HMAC-SHA256 request signing for the HTTP upstream.
 *
 *   X-SW-Key-Id:     the key id the county issued
 *   X-SW-Timestamp:  epoch milliseconds when the request was signed
 *   X-SW-Nonce:      32 hex characters, fresh for every request (a resend is signed anew)
 *   X-SW-Signature:  hex HMAC-SHA256(secret, timestamp + "\n" + nonce + "\n" + body)
 *
 * The receiver refuses a timestamp outside its window and a nonce it has
 * seen inside that window, so a captured request cannot be replayed.
 */
export const SIGNATURE_HEADERS = {
  keyId: 'x-sw-key-id',
  timestamp: 'x-sw-timestamp',
  nonce: 'x-sw-nonce',
  signature: 'x-sw-signature',
} as const;

export function signature(secret: string, timestamp: string, nonce: string, body: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${nonce}\n`).update(body).digest('hex');
}

export function signHeaders(keyId: string, secret: string, body: Buffer, now: number, nonce = randomBytes(16).toString('hex')): Record<string, string> {
  const timestamp = String(now);
  return {
    [SIGNATURE_HEADERS.keyId]: keyId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signature(secret, timestamp, nonce, body),
  };
}
