/* global document */
import { api } from './api.js';
import { field, h, notice, replace, select } from './dom.js';
import { errText, t } from './i18n.js';

/** A modal asking for confirmation (and, for a door, the reason). Resolves with the form values or null. */
function ask(title, body, needReason) {
  return new Promise((resolve) => {
    const reason = h('input', { name: 'reason', required: needReason, minlength: needReason ? 2 : 0, maxlength: 200, id: 'command-reason' });
    const form = h(
      'form',
      { method: 'dialog', class: 'dialog-form' },
      h('h2', {}, title),
      body,
      field(needReason ? t('unlockReason') : t('reason'), reason),
      h(
        'div',
        { class: 'row' },
        h('button', { value: 'cancel', type: 'button', class: 'ghost', onclick: () => dlg.close('cancel') }, t('cancel')),
        h('button', { value: 'ok', type: 'submit', class: 'danger', id: 'command-confirm' }, t('confirm')),
      ),
    );
    const dlg = h('dialog', { class: 'dialog' }, form);
    form.addEventListener('submit', (e) => {
      if (needReason && reason.value.trim().length < 2) {
        e.preventDefault();
        reason.focus();
      }
    });
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(dlg.returnValue === 'ok' ? { reason: reason.value.trim() } : null);
    });
    document.body.append(dlg);
    dlg.showModal();
    reason.focus();
  });
}

/** Buttons for the commands a device takes (the server decides who may send them, and records each). */
export function commandButtons(device, opts = {}) {
  const out = h('span', { class: 'command-result' });
  const run = async (action, extra = {}) => {
    const title = action === 'unlock' ? t('unlockConfirm', { name: device.name }) : `${t(action)} · ${device.name}`;
    const modeSel =
      action === 'arm'
        ? select(
            'mode',
            [
              ['away', t('modeAway')],
              ['home', t('modeHome')],
              ['night', t('modeNight')],
            ],
            'away',
          )
        : null;
    const answer = await ask(title, modeSel ? field(t('arm'), modeSel) : '', action === 'unlock');
    if (!answer) return;
    replace(out, t('sending'));
    try {
      const r = await api(`/api/devices/${encodeURIComponent(device.id)}/commands`, {
        body: {
          action,
          reason: answer.reason,
          confirm: true,
          ...(modeSel ? { mode: modeSel.value } : {}),
          ...(opts.alarmId ? { alarmId: opts.alarmId } : {}),
          ...extra,
        },
      });
      const s = r.command.status;
      notice(out, t('commandSent', { s: t(`cmd_${s}`) + (r.command.outcome ? ` (${r.command.outcome})` : '') }), s === 'succeeded' ? 'ok' : 'error');
      out.dataset.status = s;
      opts.onDone?.(r.command);
    } catch (err) {
      notice(out, errText(err));
      out.dataset.status = 'refused';
    }
  };
  return h(
    'span',
    { class: 'commands' },
    (device.commands ?? []).map((c) =>
      h('button', { type: 'button', class: c === 'unlock' ? 'danger small' : 'small', dataset: { command: c }, onclick: () => run(c) }, t(c)),
    ),
    out,
  );
}
