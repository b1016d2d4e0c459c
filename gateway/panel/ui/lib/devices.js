import { h } from './dom.js';
import { ago, percent, time } from './fmt.js';
import { lang, t } from './i18n.js';
import { eventLabel, kindLabel, placeText } from './labels.js';

/** Status from live health: online, offline, degraded (event channel lost), unknown, disabled. */
export function statusOf(d, health) {
  if (!d.enabled) return 'disabled';
  const x = health ?? d.health;
  if (x.reachable === true) return x.eventChannel === 'lost' ? 'degraded' : 'online';
  if (x.reachable === false) return 'offline';
  return 'unknown';
}

export const statusText = (s) => ({ online: t('online'), offline: t('offlineState'), degraded: t('degraded'), disabled: t('disabled') })[s] ?? t('unknown');

export function deviceCard(d, extra) {
  const s = d.status;
  return h(
    'div',
    { class: `device ${s}`, dataset: { deviceId: d.id, status: s } },
    h('div', {}, h('span', { class: `dot ${s}` }), h('strong', {}, d.name), h('small', { class: 'muted' }, ` ${kindLabel(d.kind)}`)),
    h('div', { class: 'muted' }, placeText(d.place), ' · ', d.gridName),
    h(
      'div',
      {},
      statusText(s),
      ' · ',
      t('lastSeen'),
      ' ',
      h('span', { title: time(d.health.lastSeen) }, ago(d.health.lastSeen)),
      d.uptime24h !== null ? ` · ${t('uptime')} ${percent(d.uptime24h)}` : '',
    ),
    d.lastEvent ? h('div', { class: 'muted' }, `${t('lastEvent')}: ${eventLabel(d.lastEvent.kind, lang(), d.lastEvent.active)} ${ago(d.lastEvent.at)}`) : null,
    d.health.detail ? h('div', { class: 'muted' }, d.health.detail) : null,
    d.maintenance
      ? h(
          'div',
          { class: 'badge maintenance-badge', title: d.maintenance.reason ?? '' },
          t('inMaintenance'),
          d.maintenance.until ? ` ${t('until', { t: time(d.maintenance.until) })}` : '',
        )
      : null,
    extra,
  );
}
