/** A one-screen summary of a parsed config, for `check-config`. Never shows a secret. */
import { DEVICE_KIND_LABELS, POINT_LABELS, SITE_KIND_LABELS } from './labels.ts';
import type { SiteConfig } from './schema.ts';
import { DEVICE_KINDS, POINT_TYPES } from './schema/devices.ts';

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function pad(s: string, n: number): string {
  // CJK characters take two columns
  let w = 0;
  for (const ch of s) w += /[\u1100-\uffff]/.test(ch) ? 2 : 1;
  return s + ' '.repeat(Math.max(1, n - w));
}

export function summarize(config: SiteConfig): string {
  const { site, grids, devices } = config;
  const lines: string[] = [];
  lines.push(`${site.name} (${site.boxId})${config.demo ? '  [DEMO]' : ''}`);
  lines.push(`  division ${site.divisionCode} · ${site.kind} ${SITE_KIND_LABELS[site.kind]} · ${site.timezone}`);
  lines.push(`  demo: ${config.demo ? 'yes (loopback only, demo secrets)' : 'no'}`);

  lines.push('', `grids (${grids.length})`);
  for (const g of grids) {
    const n = devices.filter((d) => d.grid === g.code).length;
    lines.push(`  ${pad(g.code, 20)}${pad(g.name, 12)}${g.worker ? pad(`网格员 ${g.worker}`, 16) : pad('', 16)}${n} devices`);
  }

  const disabled = devices.filter((d) => !d.enabled).length;
  const maintenance = devices.filter((d) => d.maintenance).length;
  lines.push('', `devices (${devices.length}${disabled ? `, ${disabled} disabled` : ''}${maintenance ? `, ${maintenance} in maintenance` : ''})`);
  for (const kind of DEVICE_KINDS) {
    const n = devices.filter((d) => d.kind === kind).length;
    if (n === 0) continue;
    let extra = '';
    if (kind === 'alarm_panel') {
      const zones = devices.reduce((s, d) => s + (d.kind === 'alarm_panel' ? d.zones.length : 0), 0);
      extra = `  (${zones} zones)`;
    }
    lines.push(`  ${pad(kind, 18)}${pad(DEVICE_KIND_LABELS[kind], 12)}${n}${extra}`);
  }
  if (config.mqttBridges.length) lines.push(`  bridges: ${config.mqttBridges.map((b) => `${b.id} (${b.profile})`).join(', ')}`);

  lines.push('', 'points');
  for (const p of POINT_TYPES) {
    const n = devices.filter((d) => d.place.point === p).length;
    if (n) lines.push(`  ${pad(p, 18)}${pad(POINT_LABELS[p], 12)}${n}`);
  }

  lines.push('', 'upstream');
  const county = config.upstream.county;
  if (county && county.enabled) {
    let where = county.url;
    try {
      where = new URL(county.url).host;
    } catch {
      /* keep the url */
    }
    lines.push(
      `  county push   ${where} (${county.auth.type}${county.auth.type === 'hmac' ? ` key ${county.auth.keyId}` : ''}), batch ${county.batchSize}, ${config.upstream.forward.eventKinds.length} event kinds forwarded`,
    );
  } else lines.push('  county push   disabled');
  lines.push(
    `  county API    ${config.countyApi.enabled ? `enabled, ${config.countyApi.tokens.length} token${config.countyApi.tokens.length === 1 ? '' : 's'} (${config.countyApi.tokens.map((t) => t.name).join(', ')})` : 'disabled'}`,
  );

  lines.push('', 'listen');
  const panel = config.panel;
  lines.push(`  panel         ${panel.tls ? 'https' : 'http'}://${hostPort(panel.host, panel.port)} (${panel.language})`);
  const broker = config.broker;
  lines.push(`  broker        mqtt://${hostPort(broker.host, broker.port)}${broker.tls ? `, mqtts://${hostPort(broker.host, broker.tls.port)}` : ''}`);
  return lines.join('\n');
}
