import { h } from './dom.js';

/** The site plan with a pin per placed device, coloured by its status. */
export function planView(image, positions, devices, opts = {}) {
  const byId = new Map(devices.map((d) => [d.id, d]));
  const img = h('img', { src: `/api/plan/image?v=${image.updatedAt}`, alt: 'site plan', id: 'plan-image', draggable: 'false' });
  const pins = positions.map((p) => {
    const d = byId.get(p.deviceId);
    return [
      h('span', {
        class: `pin ${d?.status ?? ''}`,
        dataset: { deviceId: p.deviceId, status: d?.status ?? 'unknown' },
        title: d?.name ?? p.deviceId,
        style: { left: `${p.x * 100}%`, top: `${p.y * 100}%` },
      }),
      opts.labels ? h('span', { class: 'pin-label', style: { left: `${p.x * 100}%`, top: `${p.y * 100}%` } }, d?.name ?? p.deviceId) : null,
    ];
  });
  return h('div', { class: 'plan', id: 'plan' }, img, pins);
}
