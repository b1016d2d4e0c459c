import { SimCamera } from './camera.ts';
import { DiscoveryResponder, type DiscoveryOptions } from './discovery.ts';
import { CameraServer } from './server.ts';
import { realClock, type CameraSpec, type SimClock, type SimLog } from './types.ts';

export interface StartCamerasOptions {
  cameras: readonly CameraSpec[];
  /** Address every camera listens on (default 127.0.0.1). */
  host?: string;
  /** Default: the real clock. Tests pass a fake clock shared with the gateway's driver. */
  clock?: SimClock;
  /** WS-Discovery responder; off by default. */
  discovery?: DiscoveryOptions | false;
  log?: SimLog;
}

/** Every camera of a site in one process, each on its own port. */
export class CameraFarm {
  private readonly byId = new Map<string, { cam: SimCamera; server: CameraServer }>();
  discovery: DiscoveryResponder | null = null;

  private constructor(readonly clock: SimClock) {}

  static async start(o: StartCamerasOptions): Promise<CameraFarm> {
    const clock = o.clock ?? realClock;
    const farm = new CameraFarm(clock);
    const host = o.host ?? '127.0.0.1';
    try {
      for (const spec of o.cameras) {
        if (farm.byId.has(spec.id)) throw new Error(`camera id ${spec.id} appears twice`);
        const cam = new SimCamera(spec, clock);
        const server = new CameraServer(cam, host);
        farm.byId.set(spec.id, { cam, server });
        await server.listen(spec.port).catch((err: NodeJS.ErrnoException) => {
          throw new Error(`camera ${spec.id}: cannot listen on ${host}:${spec.port} (${err.code ?? err.message})`);
        });
      }
      if (o.discovery) {
        farm.discovery = new DiscoveryResponder(() => farm.cameras, o.discovery, o.log ?? (() => {}));
        await farm.discovery.start();
      }
    } catch (err) {
      await farm.stop();
      throw err;
    }
    return farm;
  }

  get cameras(): SimCamera[] {
    return [...this.byId.values()].map((c) => c.cam);
  }

  camera(id: string): SimCamera {
    const c = this.byId.get(id);
    if (!c) throw new Error(`no simulated camera ${id}`);
    return c.cam;
  }

  /** Power the camera off (listener and connections closed) or on again, same port. */
  async setReachable(id: string, on: boolean): Promise<void> {
    const c = this.byId.get(id);
    if (!c) throw new Error(`no simulated camera ${id}`);
    await c.server.setReachable(on);
  }

  reachable(id: string): boolean {
    return this.byId.get(id)?.server.reachable ?? false;
  }

  async stop(): Promise<void> {
    await this.discovery?.stop();
    for (const { cam, server } of this.byId.values()) {
      cam.close();
      await server.close();
    }
  }
}

export function startCameras(o: StartCamerasOptions): Promise<CameraFarm> {
  return CameraFarm.start(o);
}
