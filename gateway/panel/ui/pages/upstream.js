/* global setInterval */
import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { duration, time } from '../lib/fmt.js';
import { t } from '../lib/i18n.js';

export async function render(main) {
  const root = h('div', { id: 'upstream' });
  async function load() {
    const r = await api('/api/upstream');
    const link = r.link;
    replace(
      root,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, t('upstreamTitle')),
        r.configured ? h('p', {}, r.configured.target ?? '', r.configured.enabled ? '' : ` (${t('disabled')})`) : h('p', { class: 'muted' }, t('none')),
        link
          ? h(
              'p',
              { id: 'link-state', dataset: { connected: String(link.connected) } },
              h('span', { class: link.connected ? 'ok-text' : 'bad-text' }, link.connected ? t('connected') : t('disconnected')),
              link.since ? ` · ${t('since', { t: time(link.since) })}` : '',
              link.lastError ? ` · ${link.lastError}` : '',
            )
          : h('p', { class: 'muted', id: 'link-state' }, t('linkUnknown')),
      ),
      h(
        'div',
        { class: 'kpis' },
        h('div', { class: 'kpi' }, h('b', { id: 'backlog-total' }, r.depth), t('backlog')),
        h('div', { class: 'kpi' }, h('b', {}, r.rates ? t('perSecond', { n: r.rates.drainedPerSecond.toFixed(1) }) : '—'), t('drainRate')),
        h('div', { class: 'kpi' }, h('b', {}, r.rates ? t('perSecond', { n: r.rates.enqueuedPerSecond.toFixed(1) }) : '—'), t('enqueueRate')),
        h('div', { class: 'kpi' }, h('b', {}, r.secondsToEmpty === null ? '∞' : duration(r.secondsToEmpty * 1000)), t('timeToEmpty')),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, t('backlog')),
        h(
          'table',
          { class: 'table', id: 'lanes' },
          h(
            'tbody',
            {},
            r.lanes.map((l) =>
              h(
                'tr',
                { dataset: { lane: l.lane } },
                h('th', {}, t(`lane_${l.lane}`)),
                h('td', {}, String(l.depth)),
                h('td', {}, l.oldestAgeSeconds !== null ? `${t('oldest')} ${duration(l.oldestAgeSeconds * 1000)}` : ''),
              ),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, t('deadLetters'), ` (${r.deadLetters.length})`),
        r.deadLetters.length
          ? h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'table', id: 'dead-letters' },
                h('thead', {}, h('tr', {}, h('th', {}, t('when')), h('th', {}, 'lane'), h('th', {}, 'type'), h('th', {}, '#'), h('th', {}, t('reason')))),
                h(
                  'tbody',
                  {},
                  r.deadLetters.map((d) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, time(d.deadAt)),
                      h('td', {}, t(`lane_${d.lane}`)),
                      h('td', {}, d.type),
                      h('td', {}, String(d.attempts)),
                      h('td', {}, d.reason),
                    ),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, t('none')),
      ),
    );
  }
  replace(main, h('h1', {}, t('navUpstream')), root);
  await load();
  setInterval(() => void load(), 10_000);
}
