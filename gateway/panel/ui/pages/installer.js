import { h, replace } from '../lib/dom.js';
import { t } from '../lib/i18n.js';

const LINKS = [
  ['/installer/discovery', 'discovery', '1'],
  ['/installer/devices/new', 'addDevice', '2'],
  ['/installer/walk-test', 'walkTest', '3'],
  ['/installer/coverage', 'coverage', '4'],
  ['/installer/plan', 'planEdit', '5'],
  ['/installer/config', 'config', '6'],
  ['/installer/acceptance', 'acceptance', '7'],
];

export async function render(main) {
  replace(
    main,
    h('h1', {}, t('installerTitle')),
    h(
      'div',
      { class: 'kpis' },
      LINKS.map(([href, key, icon]) => h('a', { href, class: 'kpi' }, h('b', {}, icon), t(key))),
    ),
  );
}
