import { api } from '../lib/api.js';
import { field, h, notice, replace } from '../lib/dom.js';
import { errText, t } from '../lib/i18n.js';
import { POINTS, pointLabel } from '../lib/labels.js';

export async function render(main) {
  let c = await api('/api/installer/coverage');
  const root = h('div', { id: 'coverage' });
  const msg = h('div', {});
  const villages = c.villages.map((v) => ({ id: v.id, name: v.name, cameras: v.cameras.map((x) => x.id) }));

  function editor() {
    const rows = villages.map((v, i) =>
      h(
        'div',
        { class: 'card village' },
        field(t('villages'), h('input', { value: v.name, oninput: (e) => (villages[i].name = e.target.value) })),
        field(
          t('cameras'),
          h(
            'select',
            { multiple: true, size: 5, onchange: (e) => (villages[i].cameras = [...e.target.selectedOptions].map((o) => o.value)) },
            c.cameraList.map((cam) => h('option', { value: cam.id, selected: v.cameras.includes(cam.id) }, `${cam.name} (${pointLabel(cam.point)})`)),
          ),
        ),
        h('button', { type: 'button', class: 'small', onclick: () => (villages.splice(i, 1), draw()) }, '✕'),
      ),
    );
    return h(
      'div',
      {},
      rows,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', onclick: () => (villages.push({ name: `自然村${villages.length + 1}`, cameras: [] }), draw()) }, t('addVillage')),
        h('button', { type: 'button', class: 'primary', onclick: save }, t('save')),
      ),
      msg,
    );
  }

  async function save() {
    try {
      await api('/api/installer/coverage/villages', { method: 'PUT', body: { villages } });
      c = await api('/api/installer/coverage');
      notice(msg, t('saved'), 'ok');
      draw();
    } catch (err) {
      notice(msg, errText(err));
    }
  }

  function draw() {
    replace(
      root,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, `${t('result')}: `, h('span', { class: c.ok ? 'ok-text' : 'bad-text', id: 'coverage-result' }, c.ok ? t('pass') : t('fail'))),
        h('p', {}, `${t('cameras')}: ${c.cameras}${c.required ? ` / ${c.required}` : ''}`),
        h('p', { class: 'muted' }, POINTS.map((p) => `${pointLabel(p)} ${c.byPoint[p]}`).join(' · ')),
        c.problems.length
          ? h(
              'ul',
              { id: 'coverage-problems' },
              c.problems.map((p) => h('li', { class: 'late' }, p)),
            )
          : null,
        c.villages.length
          ? h(
              'table',
              { class: 'table' },
              h(
                'tbody',
                {},
                c.villages.map((v) =>
                  h(
                    'tr',
                    {},
                    h('th', {}, v.name),
                    h('td', {}, `${v.atIntersection} / ${v.required}`),
                    h('td', { class: v.ok ? 'ok-text' : 'bad-text' }, v.ok ? t('pass') : t('fail')),
                  ),
                ),
              ),
            )
          : null,
      ),
      c.siteKind === 'admin_village' || c.siteKind === 'natural_village' ? h('div', {}, h('h2', {}, t('villages')), editor()) : null,
    );
  }
  replace(main, h('h1', {}, t('coverage')), root);
  draw();
}
