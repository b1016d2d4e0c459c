/** Chinese labels for config enums, shared by the summary and the panel. */
import type { DeviceKind, PointType } from './schema/devices.ts';
import type { SiteKind } from './schema/site.ts';

export const SITE_KIND_LABELS: Record<SiteKind, string> = {
  admin_village: '行政村',
  natural_village: '自然村',
  urban_estate: '城镇小区',
  organization: '企事业单位',
};

export const DEVICE_KIND_LABELS: Record<DeviceKind, string> = {
  onvif_camera: '摄像机',
  alarm_panel: '报警主机',
  access_controller: '门禁',
  sos_button: '一键报警',
  sensor: '探测器',
  siren: '声光报警器',
  loudspeaker: '广播喊话',
  mqtt_mapped: '第三方设备',
};

export const POINT_LABELS: Record<PointType, string> = {
  gate: '出入口',
  perimeter: '周界',
  entrance: '楼栋入口',
  intersection: '路口',
  public_area: '公共区域',
};
