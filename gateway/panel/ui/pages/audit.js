/* global URLSearchParams */
import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { time } from '../lib/fmt.js';
import { t } from '../lib/i18n.js';

export async function render(main) {
  const body = h('tbody', {});
  const more = h('button', { type: 'button', class: 'small' }, t('more'));
  const filter = h(
    'form',
    { class: 'filters' },
    h('input', { name: 'actor', placeholder: t('actor') }),
    h('input', { name: 'action', placeholder: `${t('action')} (login, command, alarm, config…)` }),
    h('button', { type: 'submit', class: 'small' }, '查询 / Search'),
  );
  let next = null;
  const rowOf = (e) =>
    h(
      'tr',
      { dataset: { action: e.action } },
      h('td', {}, time(e.at)),
      h('td', {}, e.actor),
      h('td', {}, e.action),
      h('td', {}, e.target ?? ''),
      h('td', { class: /^(ok|succeeded|requested|passed)/.test(e.outcome) ? '' : 'late' }, e.outcome),
      h('td', { class: 'muted' }, e.detail ? JSON.stringify(e.detail).slice(0, 200) : ''),
    );
  async function load(reset) {
    const q = new URLSearchParams({ limit: '100' });
    const actor = filter.elements.actor.value.trim();
    const action = filter.elements.action.value.trim();
    if (actor) q.set('actor', actor);
    if (action) q.set('action', action);
    if (!reset && next) q.set('before', String(next));
    const r = await api(`/api/audit?${q}`);
    if (reset) replace(body);
    body.append(...r.entries.map(rowOf));
    next = r.next;
    more.hidden = next === null;
  }
  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    void load(true);
  });
  more.addEventListener('click', () => void load(false));
  replace(
    main,
    h('h1', {}, t('auditTitle')),
    filter,
    h(
      'div',
      { class: 'card table-wrap' },
      h(
        'table',
        { class: 'table', id: 'audit' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [t('when'), t('actor'), t('action'), t('target'), t('outcome'), t('detail')].map((x) => h('th', {}, x)),
          ),
        ),
        body,
      ),
      more,
    ),
  );
  await load(true);
}
