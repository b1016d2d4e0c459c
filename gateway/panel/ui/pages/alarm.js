/* global window, document */
import { api } from '../lib/api.js';
import { commandButtons } from '../lib/commands.js';
import { field, h, notice, replace } from '../lib/dom.js';
import { duration, now, time } from '../lib/fmt.js';
import { errText, lang, t } from '../lib/i18n.js';
import { actionLabel, catLabel, eventLabel, placeText, statusLabel } from '../lib/labels.js';
import { onLive } from '../lib/live.js';

const ALLOWED = {
  new: ['accept', 'dispatch', 'resolve', 'false_alarm', 'escalate', 'note'],
  accepted: ['dispatch', 'resolve', 'false_alarm', 'escalate', 'note'],
  dispatched: ['resolve', 'false_alarm', 'escalate', 'note'],
  resolved: ['note'],
  false_alarm: ['note'],
};
const NEEDS_NOTE = new Set(['dispatch', 'false_alarm', 'note']);

function attrsText(e) {
  const a = e.attrs ?? {};
  const bits = [];
  if (a.zone !== undefined) bits.push(`防区 ${a.zone}`);
  if (a.door) bits.push(a.door);
  if (a.household) bits.push(a.household);
  if (e.source) bits.push(e.source);
  return [...new Set(bits)].filter((b) => b !== e.deviceName).join(' · ');
}

export async function render(main, { me }) {
  const id = decodeURIComponent(window.location.pathname.split('/').pop());
  const root = h('section', { class: 'alarm-detail', id: 'alarm-detail' });
  replace(main, h('p', {}, h('a', { href: '/' }, `← ${t('navBoard')}`)), root);

  // One note box for the page's life: a live update re-draws the page and must not wipe what a guard is typing.
  const noteBox = h('textarea', { name: 'note', id: 'action-note', rows: 2, maxlength: 500, placeholder: t('note') });
  let loading = null;
  let again = false;

  /** Draw the alarm; overlapping calls (a live update during an action) coalesce into one more draw. */
  async function load() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        await draw();
      } while (again);
    })().finally(() => (loading = null));
    return loading;
  }

  async function draw() {
    const r = await api(`/api/alarms/${encodeURIComponent(id)}`);
    const a = r.alarm;
    const late = a.overdueNow;
    const msg = h('div', { id: 'action-message' });
    const typing = document.activeElement === noteBox;
    const actions = me.access.handleAlarms
      ? h(
          'div',
          { class: 'actions card', id: 'alarm-actions' },
          field(t('note'), noteBox, t('noteRequired')),
          h(
            'div',
            { class: 'row wrap' },
            (ALLOWED[a.status] ?? []).map((act) =>
              h(
                'button',
                {
                  type: 'button',
                  class: act === 'resolve' || act === 'accept' ? 'primary' : act === 'escalate' ? 'danger' : '',
                  dataset: { action: act },
                  onclick: async (e) => {
                    const note = noteBox.value.trim();
                    if (NEEDS_NOTE.has(act) && !note) {
                      notice(msg, t('noteRequired'));
                      noteBox.focus();
                      return;
                    }
                    e.target.disabled = true;
                    try {
                      await api(`/api/alarms/${encodeURIComponent(id)}/actions`, { body: { action: act, ...(note ? { note } : {}) } });
                      noteBox.value = '';
                      await load();
                    } catch (err) {
                      e.target.disabled = false;
                      notice(msg, errText(err));
                    }
                  },
                },
                actionLabel(act),
              ),
            ),
          ),
          msg,
        )
      : null;

    const plan =
      r.plan && r.plan.position
        ? h(
            'div',
            { class: 'plan-mini' },
            h('img', { src: `/api/plan/image?v=${r.plan.updatedAt}`, alt: t('navPlan') }),
            h('span', { class: 'pin alarm-pin', style: { left: `${r.plan.position.x * 100}%`, top: `${r.plan.position.y * 100}%` } }),
          )
        : null;

    const deviceCmds = r.deviceCommands;
    replace(
      root,
      h(
        'header',
        { class: `detail-head level-${a.level}${late ? ' overdue' : ''}` },
        h('span', { class: `badge level-${a.level}` }, t('level', { n: a.level })),
        h('h1', {}, a.title),
        h('span', { class: `status s-${a.status}`, id: 'alarm-status', dataset: { status: a.status } }, statusLabel(a.status)),
        late ? h('span', { class: 'badge overdue-badge' }, t('overdue')) : null,
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('category')),
        h('dd', {}, catLabel(a.category)),
        h('dt', {}, t('device')),
        h('dd', {}, a.deviceName ?? '—'),
        h('dt', {}, t('place')),
        h('dd', {}, placeText(a.place)),
        h('dt', {}, t('grid')),
        h('dd', {}, a.gridName ?? '—'),
        h('dt', {}, t('when')),
        h('dd', {}, `${time(a.openedAt)} (${t('openedAgo', { d: duration(now() - a.openedAt) })})`),
        a.acceptBy ? [h('dt', {}, t('act_accept')), h('dd', { class: a.status === 'new' && now() > a.acceptBy ? 'late' : '' }, time(a.acceptBy))] : null,
        a.closeBy ? [h('dt', {}, t('act_resolve')), h('dd', { class: late ? 'late' : '' }, time(a.closeBy))] : null,
        h('dt', {}, t('countyStatus')),
        h('dd', { id: 'county-status' }, r.county.status ?? t('notYet')),
      ),
      actions,
      deviceCmds && deviceCmds.commands.length && me.access.commandDevices
        ? h('div', { class: 'card' }, h('h2', {}, t('commands')), commandButtons(deviceCmds, { alarmId: a.id }))
        : null,
      h('div', { class: 'grid2' }, h('div', { class: 'card' }, h('h2', {}, t('navPlan')), plan ?? h('p', { class: 'muted' }, t('noPlan'))), cameras(r)),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, t('evidence')),
        h(
          'ol',
          { class: 'timeline', id: 'evidence' },
          r.evidence.map((e) =>
            h(
              'li',
              { class: e.active ? 'on' : 'off' },
              h('time', {}, time(e.receivedAt)),
              ' ',
              h('strong', {}, eventLabel(e.kind, lang(), e.active)),
              ' · ',
              e.deviceName,
              attrsText(e) ? ` · ${attrsText(e)}` : '',
              e.clockTrusted ? '' : h('small', { class: 'muted', title: t('untrustedClock') }, ` (${t('boxTime')})`),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, t('history')),
        h(
          'table',
          { class: 'table', id: 'history' },
          h('thead', {}, h('tr', {}, h('th', {}, t('when')), h('th', {}, t('who')), h('th', {}, t('what')), h('th', {}, t('note')))),
          h(
            'tbody',
            {},
            r.history.map((x) =>
              h(
                'tr',
                { dataset: { action: x.action } },
                h('td', {}, time(x.at)),
                h('td', {}, x.actor),
                h('td', {}, `${actionLabel(x.action)}${x.from !== x.to ? ` → ${statusLabel(x.to)}` : ''}`),
                h('td', {}, x.note ?? ''),
              ),
            ),
          ),
        ),
      ),
      r.commands.length
        ? h(
            'div',
            { class: 'card' },
            h('h2', {}, t('commands')),
            h(
              'ul',
              {},
              r.commands.map((c) =>
                h(
                  'li',
                  {},
                  `${time(c.createdAt)} ${c.requestedBy}: ${t(c.action === 'siren' && c.params?.on === false ? 'siren_off' : c.action)} ${c.deviceId} → ${t(`cmd_${c.status}`)} (${c.reason})`,
                ),
              ),
            ),
          )
        : null,
    );
    if (typing) noteBox.focus();
  }

  function cameras(r) {
    return h(
      'div',
      { class: 'card' },
      h('h2', {}, t('snapshots')),
      r.snapshots.length
        ? h(
            'div',
            { class: 'thumbs' },
            r.snapshots.map((s) => h('a', { href: s.url, target: '_blank' }, h('img', { src: s.url, alt: s.id, loading: 'lazy' }))),
          )
        : h('p', { class: 'muted' }, t('noSnapshots')),
      h('h3', {}, t('linkedCameras')),
      r.linkedCameras.length
        ? h(
            'ul',
            {},
            r.linkedCameras.map((c) =>
              h('li', {}, c.name, ' ', h('a', { href: `/api/devices/${encodeURIComponent(c.id)}/snapshot`, target: '_blank' }, t('snapshots'))),
            ),
          )
        : h('p', { class: 'muted' }, t('none')),
    );
  }

  onLive('alarm', (a) => {
    if (a.id === id) void load();
  });
  await load();
}
