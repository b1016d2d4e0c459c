import { api } from '../lib/api.js';
import { field, h, notice, replace } from '../lib/dom.js';
import { time } from '../lib/fmt.js';
import { errText, t } from '../lib/i18n.js';

export async function render(main) {
  const list = h('ul', { id: 'acceptance-list' });
  const msg = h('div', {});
  const notes = h('textarea', { name: 'notes', rows: 3, maxlength: 2000 });
  async function load() {
    const r = await api('/api/installer/acceptance');
    replace(
      list,
      r.reports.map((x) => h('li', {}, h('a', { href: `/installer/acceptance/${x.id}` }, `${time(x.at)} · ${x.installer}`))),
    );
  }
  const make = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      id: 'make-acceptance',
      onclick: async (e) => {
        e.target.disabled = true;
        notice(msg, t('loading'), 'ok');
        try {
          const r = await api('/api/installer/acceptance', { body: { notes: notes.value } });
          globalThis.location.assign(`/installer/acceptance/${r.id}`);
        } catch (err) {
          e.target.disabled = false;
          notice(msg, errText(err));
        }
      },
    },
    t('make'),
  );
  replace(main, h('h1', {}, t('acceptance')), h('div', { class: 'card' }, field(t('notes'), notes), make, msg), h('div', { class: 'card' }, list));
  await load();
}
