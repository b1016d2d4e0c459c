/* global window */
import { api } from '../lib/api.js';
import { field, formValues, h, notice, replace, select } from '../lib/dom.js';
import { time } from '../lib/fmt.js';
import { errText, t } from '../lib/i18n.js';
import { ROLES, roleLabel } from '../lib/labels.js';

export async function render(main) {
  const body = h('tbody', {});
  const msg = h('div', {});
  async function load() {
    const r = await api('/api/users');
    replace(
      body,
      r.users.map((u) =>
        h(
          'tr',
          { dataset: { username: u.username } },
          h('td', {}, u.username),
          h('td', {}, u.displayName),
          h('td', {}, roleLabel(u.role)),
          h('td', {}, u.disabled ? t('disabled') : u.lockedUntil && u.lockedUntil > Date.now() ? t('lockedUntil', { t: time(u.lockedUntil) }) : t('online')),
          h('td', {}, time(u.lastLoginAt)),
          h(
            'td',
            { class: 'row wrap' },
            h('button', { type: 'button', class: 'small', onclick: () => change(u, { disabled: !u.disabled }) }, u.disabled ? t('enable') : t('disable')),
            u.lockedUntil ? h('button', { type: 'button', class: 'small', onclick: () => unlock(u) }, t('unlockAccount')) : null,
            h(
              'button',
              {
                type: 'button',
                class: 'small',
                onclick: () => {
                  const pw = window.prompt(`${t('resetPassword')} · ${u.username}\n${t('passwordRule')}`);
                  if (pw) void change(u, { password: pw });
                },
              },
              t('resetPassword'),
            ),
          ),
        ),
      ),
    );
  }
  async function change(u, body) {
    try {
      await api(`/api/users/${encodeURIComponent(u.id)}`, { method: 'PUT', body });
      notice(msg, t('saved'), 'ok');
      await load();
    } catch (err) {
      notice(msg, errText(err));
    }
  }
  async function unlock(u) {
    await api(`/api/users/${encodeURIComponent(u.id)}/unlock`, { body: {} });
    await load();
  }
  const formMsg = h('div', { id: 'new-user-message' });
  const form = h(
    'form',
    { class: 'card', id: 'new-user' },
    h('h2', {}, t('newUser')),
    h(
      'div',
      { class: 'grid2' },
      field(t('username'), h('input', { name: 'username', required: true, autocomplete: 'off' })),
      field(t('displayName'), h('input', { name: 'displayName', required: true })),
      field(
        t('role'),
        select(
          'role',
          ROLES.map((r) => [r, roleLabel(r)]),
          'guard',
        ),
      ),
      field(t('password'), h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' }), t('passwordRule')),
    ),
    formMsg,
    h('button', { type: 'submit', class: 'primary' }, t('create')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/users', { body: formValues(form) });
      form.reset();
      notice(formMsg, t('saved'), 'ok');
      await load();
    } catch (err) {
      notice(formMsg, errText(err));
    }
  });
  replace(
    main,
    h('h1', {}, t('usersTitle')),
    msg,
    h(
      'div',
      { class: 'card table-wrap' },
      h(
        'table',
        { class: 'table', id: 'users' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [t('username'), t('displayName'), t('role'), t('filterStatus'), t('lastSeen'), ''].map((x) => h('th', {}, x)),
          ),
        ),
        body,
      ),
    ),
    form,
  );
  await load();
}
