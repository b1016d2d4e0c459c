import { api, setCsrf } from '../lib/api.js';
import { field, formValues, h, notice, replace } from '../lib/dom.js';
import { errText, t } from '../lib/i18n.js';
import { roleLabel } from '../lib/labels.js';

export async function render(main, { me }) {
  const msg = h('div', {});
  const form = h(
    'form',
    { class: 'card narrow' },
    h('h2', {}, t('changePassword')),
    field(t('currentPassword'), h('input', { name: 'current', type: 'password', required: true, autocomplete: 'current-password' })),
    field(t('newPassword'), h('input', { name: 'next', type: 'password', required: true, autocomplete: 'new-password' }), t('passwordRule')),
    msg,
    h('button', { type: 'submit', class: 'primary' }, t('save')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('/api/account/password', { body: formValues(form) });
      setCsrf(r.csrf);
      form.reset();
      notice(msg, t('saved'), 'ok');
    } catch (err) {
      notice(msg, errText(err));
    }
  });
  replace(main, h('h1', {}, t('accountTitle')), h('p', {}, `${me.user.displayName} (${me.user.username}) · ${roleLabel(me.user.role)}`), form);
}
