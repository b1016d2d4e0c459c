/* global btoa */
import { api } from '../lib/api.js';
import { field, formValues, h, notice, replace, select } from '../lib/dom.js';
import { errText, t } from '../lib/i18n.js';
import { POINTS, kindLabel, pointLabel } from '../lib/labels.js';

const KINDS = ['access_controller', 'alarm_panel', 'sos_button', 'sensor', 'siren', 'loudspeaker', 'mqtt_mapped'];
const PER_KIND = {
  access_controller: ['door'],
  alarm_panel: ['zones'],
  sos_button: ['household', 'group'],
  sensor: ['sensorType'],
  mqtt_mapped: ['profile', 'bridge', 'sourceName'],
};

function parseZones(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [n, name, type] = l.split(/[,，]/).map((x) => x.trim());
      return { number: Number(n), name, type: type || 'intrusion' };
    });
}

export async function render(main) {
  const [devs, cov] = await Promise.all([api('/api/devices'), api('/api/installer/coverage')]);
  const grids = devs.grids;
  const msg = h('div', { id: 'add-message' });
  const result = h('div', { id: 'add-result' });
  const extra = {
    door: field(t('doorName'), h('input', { name: 'door' })),
    zones: field(t('zones'), h('textarea', { name: 'zones', rows: 4, placeholder: '1,东围墙,perimeter\n2,仓库,intrusion' })),
    household: field(t('household'), h('input', { name: 'household', placeholder: '3栋2单元501' })),
    group: field(t('group'), h('input', { name: 'group' })),
    sensorType: field(
      t('sensorType'),
      select(
        'sensorType',
        ['smoke', 'water_leak', 'gas', 'contact', 'pir'].map((s) => [s, s]),
        'smoke',
      ),
    ),
    profile: field(
      t('profile'),
      select(
        'profile',
        [
          ['zigbee2mqtt', 'zigbee2mqtt'],
          ['ha_alarm_panel', 'Home Assistant panel'],
        ],
        'zigbee2mqtt',
      ),
    ),
    bridge: field(t('bridge'), h('input', { name: 'bridge' })),
    sourceName: field(t('sourceName'), h('input', { name: 'sourceName' })),
  };
  const kindSel = select(
    'kind',
    KINDS.map((k) => [k, kindLabel(k)]),
    'access_controller',
    { id: 'kind' },
  );
  const extraBox = h('div', {});
  const showExtra = () =>
    replace(
      extraBox,
      (PER_KIND[kindSel.value] ?? []).map((k) => extra[k]),
    );
  kindSel.addEventListener('change', showExtra);
  const form = h(
    'form',
    { class: 'card', id: 'add-device' },
    h(
      'div',
      { class: 'grid2' },
      field(t('kind'), kindSel),
      field(t('name'), h('input', { name: 'name', required: true, maxlength: 64 })),
      field(
        t('grid'),
        select(
          'grid',
          grids.map((g) => [g.code, g.name]),
          grids[0]?.code,
        ),
      ),
      field(
        t('point'),
        select(
          'point',
          POINTS.map((p) => [p, pointLabel(p)]),
          'entrance',
        ),
      ),
      field(t('building'), h('input', { name: 'building', maxlength: 32 })),
      field(t('unit'), h('input', { name: 'unit', maxlength: 32 })),
      field(t('gbId'), h('input', { name: 'gbId', inputmode: 'numeric', maxlength: 20 })),
    ),
    field(
      t('linkedCameras'),
      h(
        'select',
        { name: 'linkedCameras', multiple: true, size: 4 },
        cov.cameraList.map((c) => h('option', { value: c.id }, c.name)),
      ),
    ),
    extraBox,
    msg,
    h('button', { type: 'submit', class: 'primary' }, t('create')),
  );
  showExtra();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    notice(msg, '');
    const v = formValues(form);
    const body = {
      kind: v.kind,
      name: v.name,
      grid: v.grid,
      place: { point: v.point, ...(v.building ? { building: v.building } : {}), ...(v.unit ? { unit: v.unit } : {}) },
    };
    if (v.gbId) body.gbId = v.gbId;
    const linked = [...form.elements.linkedCameras.selectedOptions].map((o) => o.value);
    if (linked.length) body.linkedCameras = linked;
    for (const k of PER_KIND[v.kind] ?? []) if (v[k]) body[k] = k === 'zones' ? parseZones(v[k]) : v[k];
    try {
      const r = await api('/api/installer/devices', { body });
      const s = r.connection;
      replace(
        result,
        h(
          'div',
          { class: 'card', id: 'connection' },
          h('h2', {}, `${t('connection')} · ${r.device.name} (${r.device.id})`),
          s.password ? h('div', { class: 'notice ok' }, t('passwordOnce')) : null,
          h(
            'div',
            { class: 'grid2' },
            h('pre', { class: 'settings', id: 'settings' }, JSON.stringify(s, null, 2)),
            h('div', { class: 'qr', id: 'qr' }, h('img', { src: `data:image/svg+xml;base64,${btoa(r.qrSvg)}`, alt: 'QR' })),
          ),
        ),
      );
      form.reset();
      showExtra();
    } catch (err) {
      notice(msg, errText(err) + (err.body?.problems ? `: ${err.body.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` : ''));
    }
  });
  replace(main, h('h1', {}, t('addDevice')), form, result);
}
