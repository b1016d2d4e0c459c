import { h, replace } from '../lib/dom.js';
import { t } from '../lib/i18n.js';

export async function render(main) {
  replace(main, h('h1', {}, t('discovery')), h('div', { class: 'card', id: 'discovery' }, h('p', { class: 'muted' }, 'ONVIF WS-Discovery: …')));
}
