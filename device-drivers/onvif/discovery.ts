import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { children, child, path, parseXml, text } from './xml.ts';

/**
 * WS-Discovery (ONVIF Core §7): a Probe for NetworkVideoTransmitter and
 * Device, sent to the multicast group and/or to given addresses (unicast,
 * for cameras on routed networks or switched to non-discoverable), and the
 * ProbeMatches collected until the timeout. Our own rather than
 * node-onvif's startProbe: that one is a module-wide singleton (two
 * discoveries at once clobber each other), multicast-only, cannot pick the
 * interface, waits a fixed 3 s, and drops answers without scopes.
 */
export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

export interface DiscoverOptions {
  /** How long to collect answers (default 3000 ms, at most 30 s). */
  timeoutMs?: number;
  /** Unicast targets, "host" or "host:port" (port 3702 by default). */
  targets?: string[];
  /** Probe the multicast group too (default: true when no targets are given). */
  multicast?: boolean;
  /** Local address to send from: the camera-facing interface (default: any). */
  bindAddress?: string;
  /** Probe rounds within the timeout (UDP may drop one; default 2). */
  rounds?: number;
}

export interface DiscoveredCamera {
  /** EndpointReference address (urn:uuid:…), stable per device. */
  urn: string;
  /** Device service URLs it announced. */
  xaddrs: string[];
  /** The address the answer came from. */
  address: string;
  /** Host and port of the device service to use (the XAddr on the answering address when there is one). */
  host: string;
  port: number;
  name: string | null;
  hardware: string | null;
  location: string | null;
  /** ONVIF profiles from the scopes: Streaming (S), T, G, C, ... */
  profiles: string[];
  scopes: string[];
  types: string[];
}

export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Header>' +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    `<a:MessageID>uuid:${messageId}</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

function target(t: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(t.trim());
  const host = m?.[1] ?? '';
  const port = m?.[2] ? Number(m[2]) : WS_DISCOVERY_PORT;
  if (!isIP(host) || !(port > 0 && port < 65536)) throw new Error(`discovery target ${JSON.stringify(t)} is not an IPv4 address with an optional port`);
  return { host, port };
}

/** Read one answer; null when it is not a ProbeMatches. */
export function readProbeMatches(xml: string, from: string): DiscoveredCamera[] {
  let doc;
  try {
    doc = parseXml(xml);
  } catch {
    return [];
  }
  const matches = path(doc, 'Envelope', 'Body', 'ProbeMatches');
  if (!matches) return [];
  const out: DiscoveredCamera[] = [];
  for (const m of children(matches, 'ProbeMatch')) {
    const urn = text(child(m, 'EndpointReference'), 'Address')?.trim();
    const xaddrs = (text(m, 'XAddrs') ?? '').split(/\s+/).filter((x) => /^https?:\/\//.test(x));
    if (!urn || !xaddrs.length) continue;
    const scopes = (text(m, 'Scopes') ?? '').split(/\s+/).filter(Boolean);
    const scope = (kind: string) => {
      const s = scopes.find((x) => x.toLowerCase().startsWith(`onvif://www.onvif.org/${kind}/`));
      return s ? decodeURIComponent(s.slice(`onvif://www.onvif.org/${kind}/`.length)).replace(/_/g, ' ') : null;
    };
    const chosen = new URL(xaddrs.find((x) => new URL(x).hostname === from) ?? xaddrs[0]!);
    out.push({
      urn,
      xaddrs,
      address: from,
      host: chosen.hostname,
      port: chosen.port ? Number(chosen.port) : chosen.protocol === 'https:' ? 443 : 80,
      name: scope('name'),
      hardware: scope('hardware'),
      location: scope('location'),
      profiles: scopes.filter((s) => /^onvif:\/\/www\.onvif\.org\/Profile\//i.test(s)).map((s) => s.split('/').pop()!),
      scopes,
      types: (text(m, 'Types') ?? '').split(/\s+/).filter(Boolean),
    });
  }
  return out;
}

/** Send WS-Discovery probes and return every device that answered (one entry per device). */
export async function discover(o: DiscoverOptions = {}): Promise<DiscoveredCamera[]> {
  const timeoutMs = Math.min(30_000, Math.max(200, o.timeoutMs ?? 3000));
  const targets = (o.targets ?? []).map(target);
  const multicast = o.multicast ?? targets.length === 0;
  const rounds = Math.min(5, Math.max(1, o.rounds ?? 2));
  const found = new Map<string, DiscoveredCamera>();
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, o.bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {}); // an ICMP "port unreachable" from one target must not end the discovery
    if (multicast) {
      socket.setMulticastTTL(1); // the local segment only
      if (o.bindAddress) socket.setMulticastInterface(o.bindAddress);
    }
    socket.on('message', (buf, rinfo) => {
      if (buf.length > 64 * 1024) return;
      for (const c of readProbeMatches(buf.toString('utf8'), rinfo.address)) if (!found.has(c.urn)) found.set(c.urn, c);
    });
    const send = (host: string, port: number) =>
      new Promise<void>((resolve) => socket.send(Buffer.from(probeMessage(randomUUID()), 'utf8'), port, host, () => resolve()));
    const timers: NodeJS.Timeout[] = [];
    for (let r = 0; r < rounds; r++) {
      timers.push(
        setTimeout(
          () => {
            if (multicast) void send(WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT);
            for (const t of targets) void send(t.host, t.port);
          },
          Math.floor((timeoutMs / (rounds + 1)) * r),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, timeoutMs));
    for (const t of timers) clearTimeout(t);
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  return [...found.values()].sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port);
}
