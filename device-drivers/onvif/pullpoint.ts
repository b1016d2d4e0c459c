import type { Clock } from '../../gateway/core/clock.ts';
import { OnvifError } from './errors.ts';
import { readNotifications, type Notification } from './notification.ts';
import { NS, type SoapClient } from './soap.ts';
import { parseDateTime, toDuration } from './time.ts';
import { esc, text, type XmlNode } from './xml.ts';

/**
 * The PullPoint operations (ONVIF Core, Real-time Pull-Point Notification
 * Interface), stateless: the session (session.ts) decides when to call them.
 * node-onvif has no event support; this is ours.
 */
export interface Subscription {
  /** The pull point's address, as the camera gave it (host rewritten to the configured one if it differs). */
  address: string;
  /** ReferenceParameters to echo as SOAP headers (Axis: SubscriptionId), raw XML. */
  referenceParameters: string;
  /** Namespace declarations the reference parameters need. */
  namespaces: Record<string, string>;
  /** Box monotonic ms when the camera will drop it (camera TerminationTime − CurrentTime from now). */
  expiresAt: number;
  /** The lifetime the camera granted, ms. */
  grantedMs: number;
}

export interface PullResult {
  notifications: Notification[];
  /** Camera clock at the answer (UTC with Z, required by the spec), for cross-checking the offset. */
  currentTime: number | null;
}

const ACTION = {
  create: 'http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest',
  pull: 'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest',
  sync: 'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/SetSynchronizationPointRequest',
  renew: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest',
  unsubscribe: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest',
};

export class PullPointClient {
  constructor(
    private readonly soap: SoapClient,
    private readonly clock: Clock,
    /** Rewrites a camera-given URL to the address the box reaches the camera at (NAT, port forwarding). */
    private readonly rewrite: (url: string) => string,
  ) {}

  async create(eventsUrl: string, lifetimeMs: number, timeoutMs: number, signal?: AbortSignal): Promise<Subscription> {
    const sentAt = this.clock.monotonic();
    const a = await this.soap.call({
      url: eventsUrl,
      op: 'CreatePullPointSubscription',
      action: ACTION.create,
      auth: true,
      timeoutMs,
      // InitialTerminationTime always sent: some cameras answer HTTP 500 without it.
      body: `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>${toDuration(lifetimeMs)}</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
      ...(signal ? { signal } : {}),
    });
    const address = text(a.response, 'SubscriptionReference', 'Address');
    if (!address)
      throw new OnvifError('parse', 'CreatePullPointSubscription: no SubscriptionReference/Address in the answer', { url: eventsUrl, op: 'create' });
    const refs = referenceParameters(a.raw);
    const granted = grantedMs(a.response, lifetimeMs);
    return { address: this.rewrite(address), referenceParameters: refs.xml, namespaces: refs.namespaces, expiresAt: sentAt + granted, grantedMs: granted };
  }

  private headers(s: Subscription): { headers: string; headerNamespaces: Record<string, string> } {
    return { headers: `<wsa:To s:mustUnderstand="1">${esc(s.address)}</wsa:To>${s.referenceParameters}`, headerNamespaces: s.namespaces };
  }

  /** One long poll. The socket timeout must exceed the poll timeout: the camera may hold the answer that long. */
  async pull(s: Subscription, o: { timeoutMs: number; limit: number; socketTimeoutMs: number; signal?: AbortSignal }): Promise<PullResult> {
    const sentAt = this.clock.monotonic();
    const a = await this.soap.call({
      url: s.address,
      op: 'PullMessages',
      action: ACTION.pull,
      auth: true,
      timeoutMs: o.socketTimeoutMs,
      // A fresh connection per long poll: a keep-alive socket the camera closed while idle would fail the next pull.
      agent: false,
      body: `<tev:PullMessages><tev:Timeout>${toDuration(o.timeoutMs)}</tev:Timeout><tev:MessageLimit>${o.limit}</tev:MessageLimit></tev:PullMessages>`,
      ...this.headers(s),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (a.name !== 'PullMessagesResponse') throw new OnvifError('parse', `PullMessages answered with ${a.name}`, { url: s.address, op: 'PullMessages' });
    this.extend(s, a.response, sentAt);
    return { notifications: readNotifications(a.response), currentTime: parseDateTime(text(a.response, 'CurrentTime')) };
  }

  async renew(s: Subscription, lifetimeMs: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const sentAt = this.clock.monotonic();
    const a = await this.soap.call({
      url: s.address,
      op: 'Renew',
      action: ACTION.renew,
      auth: true,
      timeoutMs,
      body: `<wsnt:Renew><wsnt:TerminationTime>${toDuration(lifetimeMs)}</wsnt:TerminationTime></wsnt:Renew>`,
      ...this.headers(s),
      ...(signal ? { signal } : {}),
    });
    const granted = grantedMs(a.response, lifetimeMs);
    s.expiresAt = sentAt + granted;
    s.grantedMs = granted;
  }

  async sync(s: Subscription, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.soap.call({
      url: s.address,
      op: 'SetSynchronizationPoint',
      action: ACTION.sync,
      auth: true,
      timeoutMs,
      body: '<tev:SetSynchronizationPoint/>',
      ...this.headers(s),
      ...(signal ? { signal } : {}),
    });
  }

  async unsubscribe(s: Subscription, timeoutMs: number): Promise<void> {
    await this.soap.call({
      url: s.address,
      op: 'Unsubscribe',
      action: ACTION.unsubscribe,
      auth: true,
      timeoutMs,
      body: '<wsnt:Unsubscribe/>',
      ...this.headers(s),
    });
  }

  /** A camera that extends the termination on pull says so in the answer; one that does not is renewed in time. */
  private extend(s: Subscription, response: XmlNode, sentAt: number): void {
    const cur = parseDateTime(text(response, 'CurrentTime'));
    const term = parseDateTime(text(response, 'TerminationTime'));
    if (cur !== null && term !== null && term - cur > 0) s.expiresAt = Math.max(s.expiresAt, sentAt + (term - cur));
  }
}

/** TerminationTime − CurrentTime, both camera clock; the requested lifetime when the camera leaves them out. */
function grantedMs(response: XmlNode, requested: number): number {
  const cur = parseDateTime(text(response, 'CurrentTime'));
  const term = parseDateTime(text(response, 'TerminationTime'));
  if (cur === null || term === null) return requested;
  // "Vista" firmware answers an already-expired time: treat it as "renew after every pull".
  return Math.max(0, term - cur);
}

/** The raw ReferenceParameters children of the SubscriptionReference, and the namespaces their prefixes need. */
export function referenceParameters(raw: string): { xml: string; namespaces: Record<string, string> } {
  const m = /<(?:[\w.-]+:)?ReferenceParameters\b[^>]*?(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?ReferenceParameters>)/.exec(raw);
  const inner = m?.[1]?.trim() ?? '';
  if (!inner) return { xml: '', namespaces: {} };
  const declared = new Map<string, string>();
  for (const d of raw.matchAll(/xmlns:([\w.-]+)="([^"]*)"/g)) if (!declared.has(d[1]!)) declared.set(d[1]!, d[2]!);
  const namespaces: Record<string, string> = {};
  for (const p of inner.matchAll(/<\/?([\w.-]+):/g)) {
    const prefix = p[1]!;
    if (prefix in NS || namespaces[prefix]) continue;
    const uri = declared.get(prefix);
    if (uri) namespaces[prefix] = uri;
  }
  return { xml: inner, namespaces };
}
