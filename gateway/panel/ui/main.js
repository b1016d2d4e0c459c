/* global document, window */
import { api, setCsrf } from './lib/api.js';
import { h, replace } from './lib/dom.js';
import { setServerNow } from './lib/fmt.js';
import { initLang, lang, t, toggleLang } from './lib/i18n.js';
import { onLiveState, startLive } from './lib/live.js';
import { roleLabel } from './lib/labels.js';
import { setSound, soundEnabled } from './lib/sound.js';

const PUBLIC = new Set(['login', 'setup']);

/** Navigation: each entry shows only for roles the server lets in (it checks again on every request). */
const NAV = [
  ['/', 'navBoard', 'read'],
  ['/devices', 'navDevices', 'read'],
  ['/plan', 'navPlan', 'read'],
  ['/upstream', 'navUpstream', 'read'],
  ['/reports', 'navReports', 'reports'],
  ['/audit', 'navAudit', 'audit'],
  ['/users', 'navUsers', 'users'],
  ['/installer', 'navInstaller', 'install'],
];

function header(me) {
  const path = window.location.pathname;
  const live = h('span', { class: 'live-dot', id: 'live', title: t('live') });
  onLiveState((ok) => {
    live.classList.toggle('down', !ok);
    live.title = ok ? t('live') : t('offline');
  });
  const sound = h('button', { class: 'ghost small', type: 'button', id: 'sound-toggle' }, soundEnabled() ? t('soundOn') : t('soundOff'));
  sound.addEventListener('click', () => {
    setSound(!soundEnabled());
    sound.textContent = soundEnabled() ? t('soundOn') : t('soundOff');
  });
  const out = h('button', { class: 'ghost small', type: 'button', id: 'sign-out' }, t('signOut'));
  out.addEventListener('click', async () => {
    await api('/api/logout', { body: {} }).catch(() => {});
    window.location.assign('/login');
  });
  const langBtn = h('button', { class: 'ghost small', type: 'button', id: 'lang' }, t('language'));
  langBtn.addEventListener('click', () => {
    toggleLang();
    window.location.reload();
  });
  return h(
    'header',
    { class: 'top' },
    h(
      'div',
      { class: 'brand' },
      h('a', { href: '/' }, h('img', { src: '/ui/icon.svg', alt: '', width: 22, height: 22 }), ' ', t('app')),
      ' ',
      h('span', { class: 'site' }, me.site.name),
      live,
    ),
    h(
      'nav',
      { class: 'main-nav' },
      NAV.filter(([, , need]) => me.access[need]).map(([href, key]) =>
        h('a', { href, class: (href === '/' ? path === '/' || path.startsWith('/alarms') : path.startsWith(href)) ? 'active' : '' }, t(key)),
      ),
    ),
    h(
      'div',
      { class: 'user' },
      sound,
      langBtn,
      h('a', { href: '/account', class: 'who', title: roleLabel(me.user.role) }, me.user.displayName, h('small', {}, ` ${roleLabel(me.user.role)}`)),
      out,
    ),
  );
}

async function boot() {
  const page = document.body.dataset.page;
  const main = h('main', { id: 'main' }, h('p', { class: 'muted' }, '…'));
  let me = null;
  if (PUBLIC.has(page)) {
    const status = await api('/api/status', { noRedirect: true });
    initLang(status.language);
    document.documentElement.lang = lang();
    document.body.append(main);
    const mod = await import(`./pages/${page}.js`);
    await mod.render(main, { status });
    return;
  }
  me = await api('/api/me');
  setCsrf(me.csrf);
  setServerNow(me.serverNow);
  initLang(me.language);
  document.documentElement.lang = lang();
  document.body.append(header(me), main);
  startLive();
  try {
    const mod = await import(`./pages/${page}.js`);
    await mod.render(main, { me });
  } catch (err) {
    replace(main, h('div', { class: 'notice error' }, t('error', { m: err.message })));
    throw err;
  }
}

boot().catch((err) => {
  document.body.dataset.bootError = err.message;
});
