/* global window, URLSearchParams */
import { api } from '../lib/api.js';
import { COLORS, loadUplot, width } from '../lib/charts.js';
import { h, replace, select } from '../lib/dom.js';
import { duration, percent, time } from '../lib/fmt.js';
import { t } from '../lib/i18n.js';
import { CATEGORIES, catLabel } from '../lib/labels.js';

const FIELDS = [
  ['reported', (f) => f.reported],
  ['accepted', (f) => f.accepted],
  ['closedN', (f) => f.closed],
  ['closureRate', (f) => percent(f.closureRate)],
  ['falseAlarms', (f) => f.falseAlarms],
  ['overdueN', (f) => f.overdue],
  ['meanAccept', (f) => (f.meanAcceptSeconds === null ? '—' : duration(f.meanAcceptSeconds * 1000))],
  ['meanClose', (f) => (f.meanCloseSeconds === null ? '—' : duration(f.meanCloseSeconds * 1000))],
];

function figTable(id, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', id },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, ''),
          FIELDS.map(([k]) => h('th', {}, t(k))),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map(([label, f]) =>
          h(
            'tr',
            {},
            h('th', {}, label),
            FIELDS.map(([, get]) => h('td', {}, String(get(f)))),
          ),
        ),
      ),
    ),
  );
}

const dayTs = (d) => Date.parse(`${d}T00:00:00`) / 1000;

export async function render(main) {
  const params = new URLSearchParams(window.location.search);
  const state = { period: params.get('period') ?? 'day', date: params.get('date') ?? '' };
  const root = h('div', { id: 'report' });
  const dateInput = h('input', { type: 'date', name: 'date', value: state.date });
  const controls = h(
    'form',
    { class: 'filters no-print' },
    select(
      'period',
      [
        ['day', t('day')],
        ['week', t('week')],
        ['month', t('month')],
      ],
      state.period,
    ),
    dateInput,
    h('a', { id: 'csv-link', class: 'button' }, t('csv')),
    h('button', { type: 'button', onclick: () => window.print() }, t('print')),
  );
  controls.addEventListener('change', (e) => {
    state[e.target.name] = e.target.value;
    window.history.replaceState(null, '', `/reports?${new URLSearchParams(Object.entries(state).filter(([, v]) => v))}`);
    void load();
  });

  async function load() {
    const q = new URLSearchParams(Object.entries(state).filter(([, v]) => v));
    controls.querySelector('#csv-link').href = `/api/reports.csv?${q}`;
    const r = await api(`/api/reports?${q}`);
    if (!state.date) dateInput.value = r.date;
    const charts = [
      h('div', { class: 'chart', id: 'chart-days' }),
      h('div', { class: 'chart', id: 'chart-closure' }),
      h('div', { class: 'chart', id: 'chart-uptime' }),
    ];
    replace(
      root,
      h('h1', {}, `${t('reportTitle')} · ${r.site.name} · ${t(r.period)} ${r.first}${r.days.length > 1 ? ` ~ ${r.days[r.days.length - 1]}` : ''}`),
      h(
        'div',
        { class: 'kpis' },
        h('div', { class: 'kpi' }, h('b', { id: 'kpi-reported' }, r.totals.reported), t('reported')),
        h('div', { class: 'kpi' }, h('b', { id: 'kpi-closed' }, r.totals.closed), t('closedN')),
        h('div', { class: 'kpi' }, h('b', { id: 'kpi-rate' }, percent(r.totals.closureRate)), t('closureRate')),
        h('div', { class: 'kpi' }, h('b', {}, r.totals.meanAcceptSeconds === null ? '—' : duration(r.totals.meanAcceptSeconds * 1000)), t('meanAccept')),
        h('div', { class: 'kpi' }, h('b', {}, r.totals.meanCloseSeconds === null ? '—' : duration(r.totals.meanCloseSeconds * 1000)), t('meanClose')),
        h(
          'div',
          { class: 'kpi' },
          h('b', { id: 'kpi-uptime', class: r.uptime.mean !== null && r.uptime.mean < r.uptime.target ? 'bad-text' : 'ok-text' }, percent(r.uptime.mean)),
          `${t('normalRate')} (${t('targetPct', { p: percent(r.uptime.target, 0) })})`,
        ),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, t('category')),
        figTable('by-category', [...CATEGORIES.map((c) => [catLabel(c), r.byCategory[c]]), [t('total'), r.totals]]),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, t('grid')),
        figTable(
          'by-grid',
          r.byGrid.map((g) => [g.gridName, g.figures]),
        ),
      ),
      h('div', { class: 'card' }, h('h2', {}, t('perDayByCategory')), charts[0]),
      h('div', { class: 'card' }, h('h2', {}, t('closureTrend')), charts[1]),
      h('div', { class: 'card' }, h('h2', {}, t('uptimePerDevice')), charts[2]),
      h('p', { class: 'muted' }, time(r.generatedAt)),
    );
    const uPlot = await loadUplot();
    const xs = r.days.map(dayTs);
    const bars = uPlot.paths.bars({ size: [0.7, 60] });
    // Stacked: each series is the running sum, drawn from the top down.
    const stacks = [];
    let acc = r.days.map(() => 0);
    for (const c of CATEGORIES) {
      acc = acc.map((v, i) => v + r.byDay[i].byCategory[c]);
      stacks.push(acc);
    }
    new uPlot(
      {
        width: width(charts[0]),
        height: 240,
        series: [{}, ...CATEGORIES.map((c, i) => ({ label: catLabel(c), fill: COLORS[i], stroke: COLORS[i], paths: bars, points: { show: false } })).reverse()],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { values: (_u, v) => v.map((x) => (Number.isInteger(x) ? x : '')) }],
      },
      [xs, ...stacks.slice().reverse()],
      charts[0],
    );
    new uPlot(
      {
        width: width(charts[1]),
        height: 200,
        series: [{}, { label: t('closureRate'), stroke: '#1f6feb', width: 2, spanGaps: true, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)}%`) }],
        scales: { y: { range: [0, 100] } },
        axes: [{}, { values: (_u, v) => v.map((x) => `${x}%`) }],
      },
      [xs, r.byDay.map((d) => (d.figures.closureRate === null ? null : d.figures.closureRate * 100))],
      charts[1],
    );
    const devs = r.uptime.devices;
    new uPlot(
      {
        width: Math.max(width(charts[2]), devs.length * 22),
        height: 260,
        scales: { x: { time: false, range: [-0.5, devs.length - 0.5] }, y: { range: [0, 100] } },
        series: [
          { label: t('device'), value: (_u, i) => devs[i]?.name ?? '' },
          {
            label: t('uptimeShort'),
            fill: '#15803d99',
            stroke: '#15803d',
            paths: bars,
            points: { show: false },
            value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)}%`),
          },
        ],
        axes: [
          { rotate: -60, size: 90, space: 10, incrs: [1], values: (_u, v) => v.map((i) => (devs[i] ? devs[i].name.slice(0, 8) : '')) },
          { values: (_u, v) => v.map((x) => `${x}%`) },
        ],
      },
      [devs.map((_, i) => i), devs.map((d) => (d.uptime === null ? null : d.uptime * 100))],
      charts[2],
    );
  }

  replace(main, controls, root);
  await load();
}
