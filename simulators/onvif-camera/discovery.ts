import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import type { SimCamera } from './camera.ts';
import { scopes } from './services.ts';
import type { SimLog } from './types.ts';
import { get, parse, str, x } from './xml.ts';

export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

export interface DiscoveryOptions {
  /** UDP port to answer on (3702 in the field; tests use a free port for unicast probes). */
  port: number;
  /** Address to bind (default 0.0.0.0). */
  bind?: string;
  /**
   * Join the WS-Discovery multicast group on this interface address. Only inside a network namespace
   * a test created: a simulator must never take part in multicast on a real network.
   */
  multicastInterface?: string;
}

/**
 * The cameras' WS-Discovery side: one UDP socket answering Probe messages
 * for every camera of the process, each camera with its own ProbeMatch
 * (as separate cameras would), sent back to the prober's address and port.
 */
export class DiscoveryResponder {
  private socket: dgram.Socket | null = null;
  private seq = 0;
  probes = 0;

  constructor(
    private readonly cameras: () => SimCamera[],
    private readonly o: DiscoveryOptions,
    private readonly log: SimLog,
  ) {}

  get port(): number {
    return (this.socket?.address() as { port: number } | undefined)?.port ?? 0;
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.o.port, this.o.bind ?? '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (this.o.multicastInterface) {
      socket.addMembership(WS_DISCOVERY_GROUP, this.o.multicastInterface);
      socket.setMulticastInterface(this.o.multicastInterface);
    }
    socket.on('message', (buf, rinfo) => this.onMessage(buf, rinfo));
    socket.on('error', (err) => this.log(`discovery socket error: ${err.message}`));
    this.socket = socket;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private onMessage(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    if (buf.length > 64 * 1024) return;
    const doc = parse(buf.toString('utf8'));
    const env = get(doc, 'Envelope');
    const probe = get(env, 'Body', 'Probe');
    if (!probe) return;
    this.probes++;
    const messageId = str(env, 'Header', 'MessageID') ?? '';
    const types = (str(probe, 'Types') ?? '').split(/\s+/).filter(Boolean);
    const wanted = types.length === 0 || types.some((t) => /(^|:)(NetworkVideoTransmitter|Device)$/.test(t));
    if (!wanted) return;
    for (const cam of this.cameras()) {
      const reply = Buffer.from(this.probeMatch(cam, messageId), 'utf8');
      this.socket?.send(reply, rinfo.port, rinfo.address);
    }
  }

  private probeMatch(cam: SimCamera, relatesTo: string): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
      'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
      'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Header>' +
      `<a:MessageID>uuid:${randomUUID()}</a:MessageID><a:RelatesTo>${x(relatesTo)}</a:RelatesTo>` +
      '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
      '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>' +
      `<d:AppSequence InstanceId="1" MessageNumber="${++this.seq}"/></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>` +
      `<a:EndpointReference><a:Address>${cam.urn}</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>` +
      `<d:Scopes>${x(scopes(cam).join(' '))}</d:Scopes><d:XAddrs>${x(cam.deviceUrl)}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
      '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
    );
  }
}
