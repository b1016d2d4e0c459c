import { createHash, randomBytes } from 'node:crypto';

/**
 * HTTP Digest (RFC 2617 / RFC 7616) on the client side. Written here rather
 * than taken from node-onvif: its parser splits the challenge on every ',' and
 * '=' (so a base64 nonce ending in '=' or qop="auth,auth-int" is mangled), and
 * its state (user, password, nonce count, request options) is one module-wide
 * object shared by every camera. See docs/decisions.md §3.
 */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop: string | null;
  algorithm: 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
  opaque: string | null;
  stale: boolean;
}

/** Parse `WWW-Authenticate: Digest k=v, k="v, with commas", ...`; null when it is not a digest challenge. */
export function parseDigestChallenge(header: string | string[] | undefined): DigestChallenge | null {
  const headers = Array.isArray(header) ? header : header ? [header] : [];
  for (const h of headers) {
    const m = /^\s*Digest\s+(.*)$/is.exec(h);
    if (!m) continue;
    const params = parseAuthParams(m[1]!);
    const realm = params.get('realm');
    const nonce = params.get('nonce');
    if (realm === undefined || nonce === undefined) continue;
    const alg = (params.get('algorithm') ?? 'MD5').toUpperCase();
    const algorithm = alg === 'SHA-256' ? 'SHA-256' : alg === 'SHA-256-SESS' ? 'SHA-256-sess' : alg === 'MD5-SESS' ? 'MD5-sess' : alg === 'MD5' ? 'MD5' : null;
    if (!algorithm) continue;
    const qops = (params.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter(Boolean);
    if (qops.length && !qops.includes('auth')) continue; // auth-int only: not supported
    const qop = qops.length ? 'auth' : null;
    return { realm, nonce, qop, algorithm, opaque: params.get('opaque') ?? null, stale: (params.get('stale') ?? '').toLowerCase() === 'true' };
  }
  return null;
}

/** key=value and key="quoted, value" pairs, with backslash escapes inside quotes. */
export function parseAuthParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++;
    const keyStart = i;
    while (i < s.length && s[i] !== '=' && s[i] !== ',') i++;
    const key = s.slice(keyStart, i).trim().toLowerCase();
    if (s[i] !== '=') {
      i++;
      continue;
    }
    i++; // '='
    while (i < s.length && s[i] === ' ') i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
      i++; // closing quote
    } else {
      const start = i;
      while (i < s.length && s[i] !== ',') i++;
      value = s.slice(start, i).trim();
    }
    if (key) out.set(key, value);
  }
  return out;
}

function h(alg: DigestChallenge['algorithm'], data: string): string {
  return createHash(alg.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(data, 'utf8')
    .digest('hex');
}

/** One camera's digest state: the last challenge and its nonce count, for preemptive authorization. */
export class DigestSession {
  private challenge: DigestChallenge | null = null;
  private nc = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
    private readonly cnonce: () => string = () => randomBytes(8).toString('hex'),
  ) {}

  get hasChallenge(): boolean {
    return this.challenge !== null;
  }

  /** The nonce of the challenge being answered, if any. */
  get nonce(): string | null {
    return this.challenge?.nonce ?? null;
  }

  accept(challenge: DigestChallenge): void {
    if (!this.challenge || this.challenge.nonce !== challenge.nonce) this.nc = 0;
    this.challenge = challenge;
  }

  forget(): void {
    this.challenge = null;
    this.nc = 0;
  }

  /** The Authorization header for a request, or null before any challenge was seen. */
  authorization(method: string, uri: string): string | null {
    const c = this.challenge;
    if (!c) return null;
    this.nc++;
    const nc = this.nc.toString(16).padStart(8, '0');
    const cnonce = this.cnonce();
    return digestAuthorization(c, { username: this.username, password: this.password, method, uri, nc, cnonce });
  }
}

export function digestAuthorization(
  c: DigestChallenge,
  o: { username: string; password: string; method: string; uri: string; nc: string; cnonce: string },
): string {
  let ha1 = h(c.algorithm, `${o.username}:${c.realm}:${o.password}`);
  if (c.algorithm.endsWith('-sess')) ha1 = h(c.algorithm, `${ha1}:${c.nonce}:${o.cnonce}`);
  const ha2 = h(c.algorithm, `${o.method}:${o.uri}`);
  const response = c.qop ? h(c.algorithm, `${ha1}:${c.nonce}:${o.nc}:${o.cnonce}:${c.qop}:${ha2}`) : h(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
  const q = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
  const parts = [
    `username=${q(o.username)}`,
    `realm=${q(c.realm)}`,
    `nonce=${q(c.nonce)}`,
    `uri=${q(o.uri)}`,
    `algorithm=${c.algorithm}`,
    `response=${q(response)}`,
  ];
  if (c.qop) parts.push(`qop=${c.qop}`, `nc=${o.nc}`, `cnonce=${q(o.cnonce)}`);
  if (c.opaque !== null) parts.push(`opaque=${q(c.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
