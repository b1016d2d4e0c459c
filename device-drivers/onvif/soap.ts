import type http from 'node:http';
import type { Clock } from '../../gateway/core/clock.ts';
import { parseDigestChallenge, DigestSession } from './digest.ts';
import { OnvifError } from './errors.ts';
import { httpRequest, type HttpResponse } from './http.ts';
import { usernameToken } from './wsse.ts';
import { child, childNames, parseXml, text, type XmlNode } from './xml.ts';

export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
} as const;

const ENVELOPE_NS = Object.entries(NS)
  .map(([p, u]) => `xmlns:${p}="${u}"`)
  .join(' ');

/** Largest SOAP answer read from a camera (profiles of a 16-channel NVR fit well below). */
export const MAX_SOAP_BYTES = 2 * 1024 * 1024;

export interface SoapCall {
  url: string;
  /** Operation name, for errors and logs (GetProfiles, PullMessages, ...). */
  op: string;
  /** The Body's content. */
  body: string;
  /** WS-Addressing Action, also sent in the Content-Type. */
  action?: string;
  /** Sign the request with a UsernameToken (false for pre-auth calls such as GetSystemDateAndTime). */
  auth: boolean;
  timeoutMs: number;
  /** Extra SOAP header XML: wsa:To, a subscription's reference parameters. */
  headers?: string;
  /** Namespace declarations those headers need. */
  headerNamespaces?: Record<string, string>;
  signal?: AbortSignal;
  agent?: http.Agent | false;
}

export interface SoapAnswer {
  /** The Body's first element (e.g. the PullMessagesResponse). */
  response: XmlNode;
  name: string;
  raw: string;
}

export interface SoapClientOptions {
  username: string;
  password: string;
  clock: Clock;
  /** Camera time now (box time + the camera's offset), for the UsernameToken's Created. */
  cameraNow: () => number;
  agent?: http.Agent;
}

/** What the SOAP client counts, for health and tests. */
export interface SoapStats {
  requests: number;
  digestChallenges: number;
}

/**
 * SOAP 1.2 over HTTP with both ONVIF authentication schemes: a WS-Security
 * UsernameToken signed with camera time on every authenticated call, and
 * HTTP Digest when the camera answers 401 with a challenge (the challenge is
 * then reused preemptively, with a fresh nonce count per request).
 */
export class SoapClient {
  readonly digest: DigestSession;
  readonly stats: SoapStats = { requests: 0, digestChallenges: 0 };

  constructor(private readonly o: SoapClientOptions) {
    this.digest = new DigestSession(o.username, o.password);
  }

  envelope(c: SoapCall): string {
    const headerNs = Object.entries(c.headerNamespaces ?? {})
      .map(([p, u]) => ` xmlns:${p}="${u}"`)
      .join('');
    const security = c.auth ? usernameToken(this.o.username, this.o.password, this.o.cameraNow()) : '';
    const action = c.action ? `<wsa:Action>${c.action}</wsa:Action>` : '';
    return (
      `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${ENVELOPE_NS}><s:Header${headerNs}>${security}${action}${c.headers ?? ''}</s:Header>` +
      `<s:Body>${c.body}</s:Body></s:Envelope>`
    );
  }

  async call(c: SoapCall): Promise<SoapAnswer> {
    const res = await this.exchange(c.url, () => this.envelope(c), c);
    return this.interpret(c.url, c.op, res);
  }

  /**
   * POST an envelope, answering one HTTP Digest challenge (the first, or one whose nonce went stale).
   * `envelope` is called again for the retry so a UsernameToken is never replayed.
   */
  async exchange(
    url: string,
    envelope: () => string,
    o: { op: string; timeoutMs: number; action?: string; signal?: AbortSignal; agent?: http.Agent | false },
  ): Promise<HttpResponse> {
    const uri = pathOf(url);
    const usedNonce = this.digest.nonce;
    let res = await this.post(url, envelope(), o, this.digest.authorization('POST', uri));
    if (res.status === 401) {
      const challenge = parseDigestChallenge(res.headers['www-authenticate']);
      // Answer a first challenge, or one saying our nonce went stale (RFC 7616). A plain 401 to credentials we
      // sent is a refused login: retrying it with the fresh nonce would count twice against the camera's lockout.
      if (challenge && (usedNonce === null || challenge.stale)) {
        this.stats.digestChallenges++;
        this.digest.accept(challenge);
        res = await this.post(url, envelope(), o, this.digest.authorization('POST', uri));
      }
    }
    return res;
  }

  private post(
    url: string,
    body: string,
    o: { op: string; timeoutMs: number; action?: string; signal?: AbortSignal; agent?: http.Agent | false },
    authorization: string | null,
  ): Promise<HttpResponse> {
    this.stats.requests++;
    return httpRequest(url, {
      method: 'POST',
      headers: {
        'Content-Type': `application/soap+xml; charset=utf-8${o.action ? `; action="${o.action}"` : ''}`,
        ...(authorization ? { Authorization: authorization } : {}),
      },
      body,
      timeoutMs: o.timeoutMs,
      clock: this.o.clock,
      agent: o.agent ?? this.o.agent,
      ...(o.signal ? { signal: o.signal } : {}),
      maxBytes: MAX_SOAP_BYTES,
      op: o.op,
    });
  }

  /** An HTTP answer → the SOAP response element, or an OnvifError saying what went wrong. */
  interpret(url: string, op: string, res: HttpResponse): SoapAnswer {
    const raw = res.body.toString('utf8');
    const where = { url, op, status: res.status };
    const c = { op };
    let doc: XmlNode | null = null;
    try {
      doc = raw.trim().startsWith('<') ? parseXml(raw) : null;
    } catch {
      doc = null;
    }
    const body = doc ? child(child(doc, 'Envelope'), 'Body') : undefined;
    const fault = body ? child(body, 'Fault') : undefined;
    if (fault) {
      const f = readFault(fault);
      const detail = { ...where, ...f };
      const what = [f.subcode ?? f.code, f.reason].filter(Boolean).join(': ');
      if (res.status === 401 || isAuthFault(f)) {
        return fail('auth', `${c.op} refused: ${what || `HTTP ${res.status}`} (check the ONVIF user name and password on the camera, and its clock)`, detail);
      }
      return fail('fault', `${c.op} failed: ${what || `HTTP ${res.status}`}`, detail);
    }
    if (res.status === 401 || res.status === 403) {
      // e.g. Hikvision's HTML "Access Error: 401 -- Unauthorized"
      return fail('auth', `${c.op} refused with HTTP ${res.status} (check the ONVIF user name and password; some cameras need a separate ONVIF user)`, where);
    }
    if (res.status < 200 || res.status >= 300) return fail('http', `${c.op}: HTTP ${res.status} ${excerpt(raw)}`, where);
    if (!body) return fail('parse', `${c.op}: the answer is not a SOAP envelope (${excerpt(raw)})`, where);
    const name = childNames(body)[0];
    const response = name ? child(body, name) : undefined;
    if (!name || !response) return fail('parse', `${c.op}: empty SOAP body`, where);
    return { response, name, raw };
  }
}

function fail(kind: ConstructorParameters<typeof OnvifError>[0], message: string, detail: ConstructorParameters<typeof OnvifError>[2]): never {
  throw new OnvifError(kind, message, detail);
}

export interface FaultInfo {
  code?: string;
  subcode?: string;
  reason?: string;
}

/** SOAP 1.2 (Code/Subcode/Reason) or 1.1 (faultcode/faultstring); the deepest subcode wins. */
export function readFault(fault: XmlNode): FaultInfo {
  const out: FaultInfo = {};
  const code = child(fault, 'Code');
  if (code) {
    const v = text(code, 'Value');
    if (v) out.code = v;
    let sub = child(code, 'Subcode');
    while (sub) {
      const sv = text(sub, 'Value');
      if (sv) out.subcode = sv;
      sub = child(sub, 'Subcode');
    }
  } else {
    const v = text(fault, 'faultcode');
    if (v) out.code = v;
  }
  const reason = text(fault, 'Reason', 'Text') ?? text(fault, 'faultstring');
  if (reason) out.reason = reason.slice(0, 300);
  const detail = child(fault, 'Detail') ?? child(fault, 'detail');
  if (detail && !out.subcode) {
    const first = childNames(detail)[0];
    if (first) out.subcode = first;
  }
  return out;
}

export function isAuthFault(f: FaultInfo): boolean {
  const codes = `${f.code ?? ''} ${f.subcode ?? ''}`;
  if (/NotAuthorized|FailedAuthentication|InvalidSecurity|FailedCheck|SecurityTokenUnavailable|InvalidSecurityToken/i.test(codes)) return true;
  return /not authori[sz]ed|authenticat|password|locked|unauthori[sz]ed/i.test(f.reason ?? '');
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return '/';
  }
}

function excerpt(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 160 ? `${t.slice(0, 160)}…` : t;
}
