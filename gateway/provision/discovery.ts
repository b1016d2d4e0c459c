import { discover, type DiscoveredCamera } from '../../device-drivers/onvif/index.ts';
import type { SiteConfig } from '../../config/schema.ts';
import { uuidv7 } from '../core/ids.ts';
import type { LiveHub } from '../panel/live.ts';

export interface ScanRequest {
  /** Unicast targets: "192.168.10.21", "192.168.10.21:3702" or a range "192.168.10.20-60". */
  targets: string[];
  /** Probe the multicast group of the local segment too. */
  multicast: boolean;
  timeoutMs: number;
}

export interface FoundCamera extends DiscoveredCamera {
  /** The configured camera already at this host and port, if any. */
  configured: string | null;
}

export interface Scan {
  id: string;
  startedAt: number;
  by: string;
  request: ScanRequest;
  /** Probe batches done of all (progress). */
  done: number;
  total: number;
  finished: boolean;
  found: FoundCamera[];
  error: string | null;
}

const MAX_TARGETS = 1024;
const BATCH = 32;

/** "a.b.c.x-y" → every address in it; "host[:port]" → itself. Throws with the entry named when it is not one of these. */
export function expandTargets(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of list.map((t) => t.trim()).filter(Boolean)) {
    const range = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3})$/.exec(raw);
    if (range) {
      const [from, to] = [Number(range[2]), Number(range[3])];
      if (from > to || to > 255) throw new Error(`discovery target ${JSON.stringify(raw)}: the range must go up, within 0..255`);
      for (let i = from; i <= to; i++) out.push(`${range[1]}${i}`);
    } else if (/^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$/.test(raw)) out.push(raw);
    else throw new Error(`discovery target ${JSON.stringify(raw)} is not an IPv4 address, address:port or a range like 192.168.10.20-60`);
    if (out.length > MAX_TARGETS) throw new Error(`at most ${MAX_TARGETS} addresses per scan`);
  }
  return out;
}

/**
 * The installer's discovery scan (WS-Discovery, one at a time): unicast
 * targets are probed in batches so progress shows while it runs; found
 * cameras are pushed to open pages as they answer, each marked when the
 * site already has a camera at that address.
 */
export class DiscoveryService {
  private current: Scan | null = null;

  constructor(private readonly o: { hub: LiveHub; config: () => SiteConfig; now: () => number; discover?: typeof discover }) {}

  latest(): Scan | null {
    return this.current;
  }

  start(by: string, request: ScanRequest): Scan {
    if (this.current && !this.current.finished) throw new Error('a scan is already running');
    const targets = expandTargets(request.targets);
    if (!targets.length && !request.multicast) throw new Error('give addresses to probe, or allow the multicast probe');
    const batches: string[][] = [];
    for (let i = 0; i < targets.length; i += BATCH) batches.push(targets.slice(i, i + BATCH));
    const scan: Scan = {
      id: uuidv7(this.o.now()),
      startedAt: this.o.now(),
      by,
      request,
      done: 0,
      total: batches.length + (request.multicast ? 1 : 0),
      finished: false,
      found: [],
      error: null,
    };
    this.current = scan;
    void this.run(scan, batches);
    return scan;
  }

  private async run(scan: Scan, batches: string[][]): Promise<void> {
    const find = this.o.discover ?? discover;
    const jobs = [...batches.map((b) => () => find({ targets: b, multicast: false, timeoutMs: scan.request.timeoutMs }))];
    if (scan.request.multicast) jobs.push(() => find({ multicast: true, timeoutMs: scan.request.timeoutMs }));
    const worker = async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const cams = await job();
        for (const c of cams) this.add(scan, c);
        scan.done++;
        this.o.hub.broadcast('discovery', { scanId: scan.id, done: scan.done, total: scan.total, found: scan.found.length });
      }
    };
    try {
      await Promise.all(Array.from({ length: 4 }, worker)); // four probe batches in flight at most
    } catch (err) {
      scan.error = (err as Error).message;
    }
    scan.finished = true;
    this.o.hub.broadcast('discovery', { scanId: scan.id, done: scan.done, total: scan.total, found: scan.found.length, finished: true, error: scan.error });
  }

  private add(scan: Scan, c: DiscoveredCamera): void {
    if (scan.found.some((f) => f.urn === c.urn)) return;
    const cam = this.o.config().devices.find((d) => d.kind === 'onvif_camera' && d.host === c.host && d.port === c.port);
    const f: FoundCamera = { ...c, configured: cam?.id ?? null };
    scan.found.push(f);
    this.o.hub.broadcast('discovery', { scanId: scan.id, camera: f });
  }
}
