/* global window */
import { api } from '../lib/api.js';
import { acceptanceDoc } from '../lib/acceptance.js';
import { h, replace } from '../lib/dom.js';
import { t } from '../lib/i18n.js';

export async function render(main) {
  const id = decodeURIComponent(window.location.pathname.split('/').pop());
  const r = await api(`/api/installer/acceptance/${encodeURIComponent(id)}`);
  replace(
    main,
    h(
      'div',
      { class: 'row no-print' },
      h('a', { href: '/installer/acceptance' }, `← ${t('back')}`),
      h('button', { type: 'button', onclick: () => window.print() }, t('print')),
    ),
    acceptanceDoc(r.report),
  );
}
