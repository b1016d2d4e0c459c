import { api } from '../lib/api.js';
import { h, notice, replace } from '../lib/dom.js';
import { time } from '../lib/fmt.js';
import { errText, t } from '../lib/i18n.js';

const show = (v) => (v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export async function render(main) {
  const file = h('input', { type: 'file', accept: '.yaml,.yml,.json', id: 'config-file' });
  const out = h('div', { id: 'config-result' });
  const msg = h('div', {});
  const history = h('tbody', {});
  let picked = null;

  async function loadHistory() {
    const r = await api('/api/installer/config/history');
    replace(
      history,
      r.changes.map((c) =>
        h(
          'tr',
          {},
          h('td', {}, time(c.at)),
          h('td', {}, c.actor),
          h('td', {}, c.summary),
          h('td', { class: c.outcome === 'applied' ? 'ok-text' : 'bad-text' }, c.outcome),
        ),
      ),
    );
  }

  function diffView(r) {
    return h(
      'div',
      { class: 'card diff' },
      h('h2', {}, t('changes'), ` (${r.diff.changes.length})`),
      h(
        'ul',
        {},
        r.diff.changes.map((c) =>
          h(
            'li',
            { class: c.kind },
            `${c.kind === 'added' ? '+' : c.kind === 'removed' ? '−' : '~'} ${c.path} ${c.kind === 'changed' ? `${show(c.before)} → ${show(c.after)}` : show(c.after ?? c.before).slice(0, 160)}`,
          ),
        ),
      ),
      r.restarts.length ? h('p', {}, `${t('restarts')}: ${r.restarts.join(', ')}`) : null,
      r.restartRequired.length ? h('p', { class: 'late' }, `${t('restartRequired')}: ${r.restartRequired.join(', ')}`) : null,
    );
  }

  file.addEventListener('change', async () => {
    notice(msg, '');
    const f = file.files[0];
    if (!f) return;
    picked = { name: f.name, text: await f.text() };
    const r = await api('/api/installer/config/check', { body: picked });
    if (!r.ok) {
      replace(
        out,
        h(
          'div',
          { class: 'card' },
          h('h2', {}, t('problems')),
          h(
            'ul',
            { id: 'config-problems' },
            r.problems.map((p) => h('li', { class: 'late' }, `${p.path}: ${p.message}${p.line ? ` (line ${p.line})` : ''}${p.hint ? ` — ${p.hint}` : ''}`)),
          ),
        ),
      );
      return;
    }
    replace(
      out,
      diffView(r),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          id: 'config-apply',
          disabled: r.diff.changes.length === 0,
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              const a = await api('/api/installer/config/apply', { body: picked });
              notice(msg, `${t('applied')}: ${a.restarted.join(', ') || '—'}`, 'ok');
            } catch (err) {
              notice(msg, err.code === 'rolled_back' ? `${t('rolledBack')}: ${err.message}` : errText(err));
            }
            await loadHistory();
          },
        },
        t('apply'),
      ),
    );
  });

  replace(
    main,
    h('h1', {}, t('config')),
    h(
      'div',
      { class: 'card row wrap' },
      h('a', { class: 'button', href: '/api/installer/config/export', id: 'config-export' }, t('export')),
      h('label', {}, `${t('importCheck')}: `, file),
    ),
    out,
    msg,
    h('div', { class: 'card table-wrap' }, h('table', { class: 'table' }, history)),
  );
  await loadHistory();
}
