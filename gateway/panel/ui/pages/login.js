/* global window, URLSearchParams */
import { api, ApiError } from '../lib/api.js';
import { field, formValues, h, notice, replace } from '../lib/dom.js';
import { time } from '../lib/fmt.js';
import { t } from '../lib/i18n.js';

export async function render(main, { status }) {
  if (status.setupNeeded) {
    replace(main, h('section', { class: 'card narrow' }, h('h1', {}, t('setupTitle')), h('p', {}, t('setupIntro'))));
    return;
  }
  const msg = h('div', { id: 'login-message' });
  const form = h(
    'form',
    { class: 'card narrow', id: 'login-form' },
    h('h1', {}, `${t('app')} · ${status.siteName}`),
    field(t('username'), h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true })),
    field(t('password'), h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    msg,
    h('button', { type: 'submit', class: 'primary' }, t('signIn')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    notice(msg, '');
    try {
      await api('/api/login', { body: formValues(form), noRedirect: true });
      const next = new URLSearchParams(window.location.search).get('next');
      window.location.assign(next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'locked') notice(msg, t('locked', { t: time(err.body.lockedUntil) }));
      else if (err.code === 'rate_limited') notice(msg, t('rateLimited'));
      else if (err.code === 'bad_credentials')
        notice(msg, t('badCredentials') + (err.body.attemptsLeft !== undefined ? t('attemptsLeft', { n: err.body.attemptsLeft }) : ''));
      else notice(msg, err.message);
    }
  });
  replace(main, form);
}
