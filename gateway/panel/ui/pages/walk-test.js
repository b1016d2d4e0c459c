import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { clock } from '../lib/fmt.js';
import { lang, t } from '../lib/i18n.js';
import { eventLabel, kindLabel, placeText } from '../lib/labels.js';
import { onLive } from '../lib/live.js';

export async function render(main) {
  let st = await api('/api/installer/walk-test');
  const grid = h('div', { class: 'walk', id: 'walk' });
  const head = h('div', { class: 'row wrap' });
  function draw() {
    const passed = st.devices.filter((d) => d.passed).length;
    replace(
      head,
      h('button', { type: 'button', class: 'primary', id: 'walk-start', onclick: () => act('start') }, t('start')),
      st.running ? h('button', { type: 'button', id: 'walk-finish', onclick: () => act('finish') }, t('finish')) : null,
      h('strong', { id: 'walk-progress' }, `${passed} / ${st.devices.length} ${t('passed')}`),
    );
    replace(
      grid,
      st.devices.map((d) =>
        h(
          'div',
          { class: `device ${d.passed ? 'passed' : ''}`, dataset: { deviceId: d.id, passed: String(d.passed) } },
          h('strong', {}, d.name),
          h('div', { class: 'muted' }, `${kindLabel(d.kind)} · ${placeText(d.place)}`),
          h('div', {}, d.passed ? `✔ ${t('passed')} ${clock(d.at)} ${eventLabel(d.eventKind, lang())}` : t('waiting')),
        ),
      ),
    );
  }
  async function act(action) {
    st = await api('/api/installer/walk-test', { body: { action } });
    draw();
  }
  onLive('walk', (w) => {
    if (!st.test || w.testId !== st.test.id || !w.deviceId) {
      if (w.started || w.finished) void api('/api/installer/walk-test').then((x) => ((st = x), draw()));
      return;
    }
    const d = st.devices.find((x) => x.id === w.deviceId);
    if (d && !d.passed) Object.assign(d, { passed: true, at: w.at, eventKind: w.kind });
    draw();
  });
  replace(main, h('h1', {}, t('walkTest')), h('p', { class: 'muted' }, t('walkIntro')), head, grid);
  draw();
}
