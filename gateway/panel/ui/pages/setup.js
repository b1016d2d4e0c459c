/* global window, URLSearchParams */
import { api, ApiError } from '../lib/api.js';
import { field, formValues, h, notice, replace } from '../lib/dom.js';
import { t } from '../lib/i18n.js';

export async function render(main, { status }) {
  const token = new URLSearchParams(window.location.search).get('token');
  if (!status.setupNeeded) {
    replace(main, h('section', { class: 'card narrow' }, h('p', {}, t('setupDone')), h('a', { href: '/login' }, t('signIn'))));
    return;
  }
  if (!token) {
    replace(main, h('section', { class: 'card narrow' }, h('h1', {}, t('setupTitle')), h('div', { class: 'notice error' }, t('setupNoToken'))));
    return;
  }
  const msg = h('div', { id: 'setup-message' });
  const form = h(
    'form',
    { class: 'card narrow', id: 'setup-form' },
    h('h1', {}, t('setupTitle')),
    h('p', { class: 'muted' }, t('setupIntro')),
    field(t('username'), h('input', { name: 'username', autocomplete: 'username', required: true, minlength: 2, maxlength: 32 })),
    field(t('displayName'), h('input', { name: 'displayName', required: true, maxlength: 32 })),
    field(t('password'), h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10 }), t('passwordRule')),
    msg,
    h('button', { type: 'submit', class: 'primary' }, t('create')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    notice(msg, '');
    try {
      await api('/api/setup', { body: { ...formValues(form), token }, noRedirect: true });
      window.location.assign('/users');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      notice(msg, err.message);
    }
  });
  replace(main, form);
}
