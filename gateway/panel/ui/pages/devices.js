/* global window, setInterval */
import { api } from '../lib/api.js';
import { commandButtons } from '../lib/commands.js';
import { h, replace } from '../lib/dom.js';
import { errText, t } from '../lib/i18n.js';
import { deviceCard, statusOf } from '../lib/devices.js';
import { onLive } from '../lib/live.js';

export async function render(main, { me }) {
  let data = await api('/api/devices');
  let view = 'building';
  const body = h('div', { id: 'devices' });
  const summary = h('div', { class: 'kpis', id: 'device-summary' });
  const tabs = h(
    'div',
    { class: 'row no-print' },
    h('button', { type: 'button', class: 'small', onclick: () => ((view = 'building'), draw()) }, t('byBuilding')),
    h('button', { type: 'button', class: 'small', onclick: () => ((view = 'list'), draw()) }, t('list')),
    h('a', { href: '/plan' }, t('navPlan')),
  );

  async function toggleMaintenance(d) {
    const reason = window.prompt(`${d.maintenance ? t('maintenanceOff') : t('maintenanceOn')} · ${d.name}\n${t('maintenanceReason')}`);
    if (!reason || reason.trim().length < 2) return;
    try {
      await api(`/api/devices/${encodeURIComponent(d.id)}/maintenance`, {
        body: { on: !d.maintenance, reason: reason.trim(), ...(d.maintenance ? {} : { minutes: 240 }) },
      });
      data = await api('/api/devices');
      draw();
    } catch (err) {
      window.alert(errText(err));
    }
  }

  /** A camera's picture: taken on request (it is a recorded snapshot command), never polled. */
  function snapshotButton(d) {
    return h(
      'button',
      {
        type: 'button',
        class: 'small',
        onclick: (e) => {
          const card = e.target.closest('.device');
          card.querySelector('.snap')?.remove();
          card.append(h('img', { class: 'snap', src: `/api/devices/${encodeURIComponent(d.id)}/snapshot?t=${Date.now()}`, alt: d.name }));
        },
      },
      t('liveView'),
    );
  }

  const card = (d) =>
    deviceCard(
      d,
      h(
        'div',
        { class: 'row wrap' },
        me.access.commandDevices && d.commands.length ? commandButtons(d) : null,
        d.kind === 'onvif_camera' ? snapshotButton(d) : null,
        me.access.maintenance
          ? h('button', { type: 'button', class: 'small', onclick: () => toggleMaintenance(d) }, d.maintenance ? t('maintenanceOff') : t('maintenanceOn'))
          : null,
      ),
    );

  function draw() {
    const counts = { online: 0, offline: 0, degraded: 0, unknown: 0, disabled: 0 };
    for (const d of data.devices) counts[d.status]++;
    replace(
      summary,
      h('div', { class: 'kpi' }, h('b', {}, data.devices.length), t('navDevices')),
      h('div', { class: 'kpi' }, h('b', { class: 'ok-text' }, counts.online), t('online')),
      h('div', { class: 'kpi' }, h('b', { class: counts.offline ? 'bad-text' : '' }, counts.offline), t('offlineState')),
      h('div', { class: 'kpi' }, h('b', {}, counts.degraded), t('degraded')),
    );
    if (view === 'list') {
      replace(body, h('div', { class: 'device-grid' }, data.devices.map(card)));
      return;
    }
    const groups = new Map();
    for (const d of data.devices) {
      const k = d.place?.building ?? '';
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(d);
    }
    const keys = [...groups.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b, 'zh-CN', { numeric: true })));
    replace(
      body,
      keys.map((k) =>
        h(
          'section',
          { class: 'card' },
          h('h2', {}, k || t('noBuilding'), h('small', { class: 'muted' }, ` (${groups.get(k).length})`)),
          h('div', { class: 'device-grid' }, groups.get(k).map(card)),
        ),
      ),
    );
  }

  onLive('device', (hl) => {
    const d = data.devices.find((x) => x.id === hl.deviceId);
    if (!d) return;
    d.health = { ...d.health, ...hl };
    d.status = statusOf(d, hl);
    draw();
  });
  onLive('event', (e) => {
    const d = data.devices.find((x) => x.id === e.deviceId);
    if (!d) return;
    d.lastEvent = { kind: e.kind, active: e.active, at: e.at };
    d.health.lastSeen = e.at;
  });
  setInterval(async () => {
    data = await api('/api/devices');
    draw();
  }, 30_000);

  replace(main, h('h1', {}, t('navDevices')), summary, tabs, body);
  draw();
}
