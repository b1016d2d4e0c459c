/* global window, document, URLSearchParams, setInterval */
import { api } from '../lib/api.js';
import { h, replace, select } from '../lib/dom.js';
import { duration, now } from '../lib/fmt.js';
import { errText, t } from '../lib/i18n.js';
import { CATEGORIES, STATUSES, catLabel, placeText, statusLabel } from '../lib/labels.js';
import { onLive } from '../lib/live.js';
import { alarmSound } from '../lib/sound.js';

const CLOSED = new Set(['resolved', 'false_alarm']);

function overdue(a) {
  if (CLOSED.has(a.status)) return a.overdue;
  if (a.overdue) return true;
  const n = now();
  if (a.status === 'new' && a.acceptBy && n > a.acceptBy) return true;
  return Boolean(a.closeBy && n > a.closeBy);
}

function matches(a, f) {
  if (f.status === 'open' && CLOSED.has(a.status)) return false;
  if (f.status === 'closed' && !CLOSED.has(a.status)) return false;
  if (!['open', 'closed', 'all'].includes(f.status) && a.status !== f.status) return false;
  if (f.level && String(a.level) !== f.level) return false;
  if (f.grid && a.grid !== f.grid) return false;
  if (f.category && a.category !== f.category) return false;
  return true;
}

/** Most urgent first: level 1 before 2 before 3, then the oldest. Closed ones: newest first. */
function order(a, b) {
  const ca = CLOSED.has(a.status);
  const cb = CLOSED.has(b.status);
  if (ca !== cb) return ca ? 1 : -1;
  if (ca) return b.openedAt - a.openedAt;
  return a.level - b.level || a.openedAt - b.openedAt;
}

export async function render(main, { me }) {
  const params = new URLSearchParams(window.location.search);
  const f = {
    status: params.get('status') ?? 'open',
    level: params.get('level') ?? '',
    grid: params.get('grid') ?? '',
    category: params.get('category') ?? '',
  };
  const alarms = new Map();
  let grids = [];
  const list = h('div', { class: 'alarm-list', id: 'alarm-list', 'aria-live': 'polite' });
  const counter = h('span', { class: 'count', id: 'alarm-count' });
  const bar = h('form', { class: 'filters', id: 'filters' });

  function drawFilters() {
    replace(
      bar,
      select('level', [['', `${t('filterLevel')}: ${t('all')}`], ...[1, 2, 3].map((n) => [String(n), t('level', { n })])], f.level),
      select('status', [['open', t('open')], ['closed', t('closed')], ['all', t('all')], ...STATUSES.map((s) => [s, statusLabel(s)])], f.status),
      select('grid', [['', `${t('filterGrid')}: ${t('all')}`], ...grids.map((g) => [g.code, g.name])], f.grid),
      select('category', [['', `${t('filterCategory')}: ${t('all')}`], ...CATEGORIES.map((c) => [c, catLabel(c)])], f.category),
      counter,
    );
  }
  bar.addEventListener('change', (e) => {
    f[e.target.name] = e.target.value;
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
    window.history.replaceState(null, '', `/?${q}`);
    void load();
  });

  function card(a) {
    const late = overdue(a);
    const accept =
      me.access.handleAlarms && a.status === 'new'
        ? h(
            'button',
            {
              type: 'button',
              class: 'primary small',
              onclick: async (e) => {
                e.preventDefault();
                e.stopPropagation();
                e.target.disabled = true;
                try {
                  const r = await api(`/api/alarms/${encodeURIComponent(a.id)}/actions`, { body: { action: 'accept' } });
                  alarms.set(a.id, r.alarm);
                  draw();
                } catch (err) {
                  e.target.disabled = false;
                  window.alert(errText(err));
                }
              },
            },
            t('act_accept'),
          )
        : null;
    return h(
      'a',
      {
        href: `/alarms/${encodeURIComponent(a.id)}`,
        class: `alarm level-${a.level} status-${a.status}${late ? ' overdue' : ''}`,
        dataset: { alarmId: a.id, status: a.status, overdue: String(late) },
      },
      h('span', { class: `badge level-${a.level}` }, t('level', { n: a.level })),
      h(
        'div',
        { class: 'alarm-body' },
        h('div', { class: 'alarm-title' }, h('strong', {}, a.title), a.count > 1 ? h('span', { class: 'repeat' }, ` ×${a.count}`) : null),
        h('div', { class: 'alarm-meta' }, catLabel(a.category), ' · ', a.deviceName ?? '—', ' · ', placeText(a.place), a.gridName ? ` · ${a.gridName}` : ''),
      ),
      h(
        'div',
        { class: 'alarm-side' },
        h('span', { class: `status s-${a.status}` }, statusLabel(a.status)),
        h(
          'span',
          { class: `age${late ? ' late' : ''}`, dataset: { opened: String(a.openedAt) } },
          t('openedAgo', { d: duration(now() - a.openedAt) }),
          late ? ` · ${t('overdue')}` : '',
        ),
        accept,
      ),
    );
  }

  function draw() {
    const shown = [...alarms.values()].filter((a) => matches(a, f)).sort(order);
    counter.textContent = String(shown.length);
    replace(list, shown.length ? shown.map(card) : h('p', { class: 'muted empty' }, t('noAlarms')));
  }

  async function load() {
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
    const r = await api(`/api/alarms?${q}`);
    grids = r.grids;
    alarms.clear();
    for (const a of r.alarms) alarms.set(a.id, a);
    drawFilters();
    draw();
  }

  onLive('alarm', (a) => {
    const known = alarms.has(a.id);
    alarms.set(a.id, { ...alarms.get(a.id), ...a });
    if (!known && !CLOSED.has(a.status) && a.count === 1 && matches(a, f)) {
      alarmSound(a.level);
      document.title = `(${[...alarms.values()].filter((x) => x.status === 'new').length}) ${document.title.replace(/^\(\d+\) /, '')}`;
    }
    draw();
  });
  // Ages and deadlines tick every second without asking the server.
  setInterval(() => {
    for (const el of list.querySelectorAll('.age')) {
      const opened = Number(el.dataset.opened);
      const card = el.closest('.alarm');
      const a = alarms.get(card.dataset.alarmId);
      if (!a) continue;
      const late = overdue(a);
      el.firstChild.textContent = t('openedAgo', { d: duration(now() - opened) });
      if (late && card.dataset.overdue !== 'true') draw();
    }
  }, 1000);

  replace(main, h('section', { class: 'board' }, h('h1', { class: 'sr-only' }, t('navBoard')), bar, list));
  await load();
}
