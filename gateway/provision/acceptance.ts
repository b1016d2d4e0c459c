import { categoryLabel } from '../core/alarm.ts';
import type { PanelDeps } from '../panel/deps.ts';
import { coverage } from './coverage.ts';
import { testUpstream } from './upstream-test.ts';
import type { WalkTestService } from './walk-test.ts';

/**
 * The acceptance report (验收报告): the site, every device with its state and
 * last event, the walk-test results, the camera-point coverage, an upstream
 * connectivity test, the date and the installer. Built once and stored as
 * it was, so the printed copy can be produced again unchanged.
 */
export async function buildAcceptance(deps: PanelDeps, walk: WalkTestService, installer: { username: string; displayName: string }, notes: string) {
  const cfg = deps.config();
  const now = deps.clock.now();
  const health = new Map(deps.health().map((h) => [h.deviceId, h]));
  const w = await walk.status();
  const passes = new Map(w.devices.map((d) => [d.id, d]));
  const grids = new Map(cfg.grids.map((g) => [g.code, g.name]));
  const devices = [];
  for (const d of cfg.devices) {
    const h = health.get(d.id);
    const last = await deps.data.queries.lastEvent(d.id);
    const p = passes.get(d.id);
    devices.push({
      id: d.id,
      name: d.name,
      kind: d.kind,
      grid: d.grid,
      gridName: grids.get(d.grid) ?? d.grid,
      place: d.place,
      gbId: d.gbId ?? null,
      enabled: d.enabled,
      status: !d.enabled
        ? 'disabled'
        : h?.reachable === true
          ? h.eventChannel === 'lost'
            ? 'degraded'
            : 'online'
          : h?.reachable === false
            ? 'offline'
            : 'unknown',
      lastSeen: h?.lastSeen ?? last?.at ?? null,
      lastEvent: last ? { kind: last.kind, at: last.at } : null,
      walk: p ? { tested: true, passed: p.passed, at: p.at, eventKind: p.eventKind } : { tested: false, passed: false, at: null, eventKind: null },
    });
  }
  const upstream = await testUpstream(cfg.upstream.county, now);
  const cov = coverage(cfg, await deps.data.provisioning.villages());
  const enabled = devices.filter((d) => d.enabled);
  const summary = {
    devices: devices.length,
    enabled: enabled.length,
    online: enabled.filter((d) => d.status === 'online').length,
    walkTested: enabled.filter((d) => d.walk.tested).length,
    walkPassed: enabled.filter((d) => d.walk.passed).length,
    coverageOk: cov.ok,
    upstreamReachable: upstream.configured ? upstream.reachable : null,
  };
  const passed = summary.online === summary.enabled && summary.walkPassed === summary.enabled && cov.ok && summary.upstreamReachable !== false;
  return {
    title: '技防系统验收报告',
    site: {
      name: cfg.site.name,
      boxId: cfg.site.boxId,
      divisionCode: cfg.site.divisionCode,
      kind: cfg.site.kind,
      timezone: cfg.site.timezone,
      grids: cfg.grids.map((g) => ({ code: g.code, name: g.name })),
    },
    generatedAt: now,
    installer: { username: installer.username, name: installer.displayName },
    notes,
    version: deps.version,
    summary,
    passed,
    devices,
    walkTest: w.test ? { id: w.test.id, startedAt: w.test.startedAt, startedBy: w.test.startedBy, finishedAt: w.test.finishedAt } : null,
    coverage: cov,
    upstream,
    categories: categoryLabel,
  };
}
