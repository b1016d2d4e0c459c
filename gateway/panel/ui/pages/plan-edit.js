import { api } from '../lib/api.js';
import { h, notice, replace } from '../lib/dom.js';
import { errText, t } from '../lib/i18n.js';
import { kindLabel } from '../lib/labels.js';
import { planView } from '../lib/plan.js';

export async function render(main) {
  let [plan, devs] = await Promise.all([api('/api/plan'), api('/api/devices')]);
  const box = h('div', { class: 'card' });
  const msg = h('div', {});
  const list = h(
    'select',
    { size: 12, id: 'plan-device' },
    devs.devices.map((d) => h('option', { value: d.id }, `${d.name} (${kindLabel(d.kind)})`)),
  );
  const upload = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp', id: 'plan-upload' });

  function draw() {
    const placed = new Set(plan.positions.map((p) => p.deviceId));
    for (const o of list.options) o.textContent = `${placed.has(o.value) ? '● ' : ''}${devs.devices.find((d) => d.id === o.value).name}`;
    if (!plan.image) return replace(box, h('p', { class: 'muted' }, t('noPlan')));
    const view = planView(plan.image, plan.positions, devs.devices, { labels: true });
    view.addEventListener('click', async (e) => {
      const id = list.value;
      if (!id) return notice(msg, t('placeHint'));
      const rect = view.querySelector('img').getBoundingClientRect();
      const x = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
      const y = Math.min(1, Math.max(0, (e.clientY - rect.top) / rect.height));
      try {
        const r = await api('/api/installer/plan/positions', { method: 'PUT', body: { positions: [{ deviceId: id, x, y }] } });
        plan.positions = r.positions;
        list.selectedIndex = Math.min(list.options.length - 1, list.selectedIndex + 1);
        draw();
      } catch (err) {
        notice(msg, errText(err));
      }
    });
    replace(box, view);
  }

  upload.addEventListener('change', async () => {
    const f = upload.files[0];
    if (!f) return;
    try {
      await api('/api/installer/plan/image', { method: 'PUT', raw: await f.arrayBuffer(), contentType: f.type || 'image/png' });
      plan = await api('/api/plan');
      notice(msg, t('saved'), 'ok');
      draw();
    } catch (err) {
      notice(msg, errText(err));
    }
  });

  replace(
    main,
    h('h1', {}, t('planEdit')),
    h('div', { class: 'card row wrap' }, h('label', {}, `${t('uploadPlan')}: `, upload)),
    h('p', { class: 'muted' }, t('placeHint')),
    msg,
    h('div', { class: 'grid2' }, h('div', {}, list), box),
  );
  draw();
}
