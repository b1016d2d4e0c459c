import type { DeviceConfig, DeviceKind, PointType } from '../../config/schema.ts';
import type { AlarmPlace } from '../core/alarm.ts';

/** What the rules need to know about a device, looked up once per event. */
export interface DeviceInfo {
  id: string;
  kind: DeviceKind;
  name: string;
  grid: string;
  building: string | undefined;
  unit: string | undefined;
  point: PointType;
  sensorType: string | undefined;
  linkedCameras: readonly string[];
  zones: ReadonlyMap<number, { name: string; type: string; linkedCameras: readonly string[] }>;
  /** onvif_camera: takes snapshots (config `snapshot`). */
  snapshot: boolean;
  maintenance: boolean;
}

/** The site's devices as the rules see them: places, links between doors/zones and cameras, both ways. */
export class Registry {
  private readonly devices = new Map<string, DeviceInfo>();
  /** camera id → the devices (and zones) that name it in linkedCameras. */
  private readonly linkedFromCamera = new Map<string, { deviceId: string; zone: number | undefined }[]>();
  private readonly gridNames: ReadonlyMap<string, string>;

  constructor(devices: readonly DeviceConfig[], grids: readonly { code: string; name: string }[] = []) {
    this.gridNames = new Map(grids.map((g) => [g.code, g.name]));
    for (const d of devices) {
      const zones = new Map<number, { name: string; type: string; linkedCameras: readonly string[] }>();
      if (d.kind === 'alarm_panel') for (const z of d.zones) zones.set(z.number, { name: z.name, type: z.type, linkedCameras: z.linkedCameras });
      this.devices.set(d.id, {
        id: d.id,
        kind: d.kind,
        name: d.name,
        grid: d.grid,
        building: d.place.building,
        unit: d.place.unit,
        point: d.place.point,
        sensorType: d.kind === 'sensor' ? d.sensorType : undefined,
        linkedCameras: d.linkedCameras,
        zones,
        snapshot: d.kind === 'onvif_camera' ? d.snapshot : false,
        maintenance: d.maintenance,
      });
      const link = (cam: string, zone: number | undefined) => {
        let list = this.linkedFromCamera.get(cam);
        if (!list) this.linkedFromCamera.set(cam, (list = []));
        list.push({ deviceId: d.id, zone });
      };
      for (const cam of d.linkedCameras) link(cam, undefined);
      for (const [n, z] of zones) for (const cam of z.linkedCameras) link(cam, n);
    }
  }

  get(id: string): DeviceInfo | undefined {
    return this.devices.get(id);
  }

  all(): IterableIterator<DeviceInfo> {
    return this.devices.values();
  }

  gridName(code: string | null): string | undefined {
    return code === null ? undefined : this.gridNames.get(code);
  }

  /** Cameras linked to a point: a zone's own cameras when it has any, else the device's. */
  linkedCameras(deviceId: string, zone: number | undefined): readonly string[] {
    const d = this.devices.get(deviceId);
    if (!d) return [];
    const z = zone === undefined ? undefined : d.zones.get(zone);
    return z && z.linkedCameras.length > 0 ? z.linkedCameras : d.linkedCameras;
  }

  /** Whether `cameraId` is linked to the point (device, zone). */
  isLinked(deviceId: string, zone: number | undefined, cameraId: string): boolean {
    return this.linkedCameras(deviceId, zone).includes(cameraId);
  }

  /** The points (device, zone) that name this camera among their linked cameras. */
  linkedFrom(cameraId: string): readonly { deviceId: string; zone: number | undefined }[] {
    return this.linkedFromCamera.get(cameraId) ?? [];
  }

  /** Where a point is, for the alarm. */
  placeOf(deviceId: string, zone: number | undefined): AlarmPlace | null {
    const d = this.devices.get(deviceId);
    if (!d) return null;
    const z = zone === undefined ? undefined : d.zones.get(zone);
    return {
      ...(d.building !== undefined ? { building: d.building } : {}),
      ...(d.unit !== undefined ? { unit: d.unit } : {}),
      point: d.point,
      name: z ? z.name : d.name,
      ...(zone !== undefined ? { zone } : {}),
    };
  }
}
