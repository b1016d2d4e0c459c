import type { Clock } from '../../gateway/core/clock.ts';
import { DigestSession, parseDigestChallenge } from './digest.ts';
import { OnvifError } from './errors.ts';
import { httpRequest } from './http.ts';

export const MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;

export interface FetchedSnapshot {
  bytes: Buffer;
  contentType: string;
}

/**
 * GET a snapshot URI, answering HTTP Digest (or Basic, if that is all the
 * camera offers). Our own rather than node-onvif's fetchSnapshot: that one
 * keeps the request options of its digest retry in one module-wide object,
 * so two cameras fetched at the same time can send one camera's retry to
 * the other, and it has no timeout. The answer must be an image.
 */
export async function fetchSnapshot(
  url: string,
  o: { username: string; password: string; clock: Clock; timeoutMs: number; digest?: DigestSession },
): Promise<FetchedSnapshot> {
  const digest = o.digest ?? new DigestSession(o.username, o.password);
  const u = new URL(url);
  const uri = `${u.pathname}${u.search}`;
  const get = (authorization: string | null) =>
    httpRequest(url, {
      method: 'GET',
      headers: authorization ? { Authorization: authorization } : {},
      timeoutMs: o.timeoutMs,
      clock: o.clock,
      maxBytes: MAX_SNAPSHOT_BYTES,
      op: 'snapshot',
    });
  const usedNonce = digest.nonce;
  let res = await get(digest.authorization('GET', uri));
  if (res.status === 401) {
    const challenge = parseDigestChallenge(res.headers['www-authenticate']);
    const basic = /^\s*Basic\b/i.test(String(res.headers['www-authenticate'] ?? ''));
    if (challenge && (usedNonce === null || challenge.stale)) {
      digest.accept(challenge);
      res = await get(digest.authorization('GET', uri));
    } else if (basic) {
      res = await get(`Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`);
    }
  }
  const where = { url, op: 'snapshot', status: res.status };
  if (res.status === 401 || res.status === 403)
    throw new OnvifError('auth', `snapshot refused with HTTP ${res.status} (check the camera user name and password)`, where);
  if (res.status !== 200) throw new OnvifError('http', `snapshot: HTTP ${res.status}`, where);
  const type = String(res.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const jpeg = res.body.length > 3 && res.body[0] === 0xff && res.body[1] === 0xd8;
  if (!(type.startsWith('image/') || (type === '' && jpeg)))
    throw new OnvifError('parse', `snapshot: the camera answered ${type || 'no content type'}, not an image`, where);
  if (res.body.length === 0) throw new OnvifError('parse', 'snapshot: empty picture', where);
  return { bytes: res.body, contentType: type || 'image/jpeg' };
}
