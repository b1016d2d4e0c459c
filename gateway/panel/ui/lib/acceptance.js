import { h } from './dom.js';
import { time } from './fmt.js';
import { lang, t } from './i18n.js';
import { eventLabel, kindLabel, placeText } from './labels.js';
import { statusText } from './devices.js';

/** The acceptance report as a printable document (rendered from the stored report, as it was made). */
export function acceptanceDoc(r) {
  const s = r.summary;
  return h(
    'article',
    { class: 'acceptance', id: 'acceptance-report' },
    h('h1', {}, `${r.site.name} ${r.title}`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('site')),
      h('dd', {}, `${r.site.name} · ${r.site.divisionCode} · ${r.site.boxId}`),
      h('dt', {}, t('date')),
      h('dd', { id: 'acceptance-date' }, time(r.generatedAt)),
      h('dt', {}, t('installer')),
      h('dd', { id: 'acceptance-installer' }, `${r.installer.name} (${r.installer.username})`),
      h('dt', {}, t('result')),
      h('dd', { class: r.passed ? 'ok-text' : 'bad-text', id: 'acceptance-result' }, r.passed ? t('pass') : t('fail')),
      h('dt', {}, t('navDevices')),
      h('dd', {}, `${s.online}/${s.enabled} ${t('online')} · ${t('walkTest')} ${s.walkPassed}/${s.enabled} ${t('passed')}`),
      h('dt', {}, t('coverage')),
      h('dd', { class: r.coverage.ok ? 'ok-text' : 'bad-text' }, r.coverage.ok ? t('pass') : r.coverage.problems.join('; ')),
      h('dt', {}, t('upstreamTest')),
      h(
        'dd',
        { id: 'acceptance-upstream', class: r.upstream.reachable ? 'ok-text' : 'bad-text' },
        r.upstream.configured
          ? `${r.upstream.target} · ${r.upstream.reachable ? `${t('reachable')} (HTTP ${r.upstream.status}, ${r.upstream.ms} ms)` : `${t('unreachable')}: ${r.upstream.error}`}`
          : r.upstream.error,
      ),
      r.notes ? [h('dt', {}, t('notes')), h('dd', {}, r.notes)] : null,
    ),
    h(
      'table',
      { class: 'table', id: 'acceptance-devices' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['#', t('name'), t('kind'), t('place'), t('grid'), t('gbId'), t('filterStatus'), t('lastEvent'), t('walkTest')].map((x) => h('th', {}, x)),
        ),
      ),
      h(
        'tbody',
        {},
        r.devices.map((d, i) =>
          h(
            'tr',
            { dataset: { deviceId: d.id } },
            h('td', {}, String(i + 1)),
            h('td', {}, `${d.name} (${d.id})`),
            h('td', {}, kindLabel(d.kind)),
            h('td', {}, placeText(d.place)),
            h('td', {}, d.gridName),
            h('td', {}, d.gbId ?? ''),
            h('td', { class: `nowrap ${d.status === 'online' ? 'ok-text' : 'bad-text'}` }, statusText(d.status)),
            h('td', {}, d.lastEvent ? `${eventLabel(d.lastEvent.kind, lang())} ${time(d.lastEvent.at)}` : '—'),
            h('td', { class: d.walk.passed ? 'ok-text' : 'bad-text' }, d.walk.passed ? `✔ ${time(d.walk.at)}` : d.walk.tested ? '✘' : '—'),
          ),
        ),
      ),
    ),
    h('div', { class: 'signatures' }, h('p', {}, `${t('installer')}（签字）：__________    建设单位（签字）：__________    ${t('date')}：__________`)),
  );
}
