import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { statusOf } from '../lib/devices.js';
import { onLive } from '../lib/live.js';
import { planView } from '../lib/plan.js';

export async function render(main) {
  const [plan, devs] = await Promise.all([api('/api/plan'), api('/api/devices')]);
  const box = h('div', { class: 'card' });
  const draw = () => replace(box, plan.image ? planView(plan.image, plan.positions, devs.devices, { labels: true }) : h('p', { class: 'muted' }, t('noPlan')));
  onLive('device', (hl) => {
    const d = devs.devices.find((x) => x.id === hl.deviceId);
    if (!d) return;
    d.status = statusOf(d, hl);
    draw();
  });
  replace(main, h('h1', {}, t('navPlan')), box);
  draw();
}
