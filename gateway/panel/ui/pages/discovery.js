import { api } from '../lib/api.js';
import { field, formValues, h, notice, replace, select } from '../lib/dom.js';
import { errText, t } from '../lib/i18n.js';
import { POINTS, pointLabel } from '../lib/labels.js';
import { onLive } from '../lib/live.js';

export async function render(main) {
  const grids = (await api('/api/devices')).grids;
  let scan = (await api('/api/installer/discovery')).scan;
  const progress = h('progress', { id: 'scan-progress', max: 1, value: 0 });
  const status = h('span', { id: 'scan-status' });
  const rows = h('tbody', {});
  const detail = h('div', { id: 'camera-detail' });
  const msg = h('div', {});
  const targets = h('textarea', { name: 'targets', rows: 3, placeholder: '192.168.10.20-60' });
  const multicast = h('input', { type: 'checkbox', name: 'multicast' });
  const form = h(
    'form',
    { class: 'card', id: 'scan-form' },
    field(t('targets'), targets),
    h('label', { class: 'row' }, multicast, t('multicast')),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'scan-start' }, t('scan')), progress, status),
    msg,
  );

  function draw() {
    if (!scan) return;
    progress.max = Math.max(1, scan.total);
    progress.value = scan.done;
    status.textContent = `${scan.finished ? '' : `${t('scanning')} `}${t('found', { n: scan.found.length })}${scan.error ? ` · ${scan.error}` : ''}`;
    replace(
      rows,
      scan.found.map((c) =>
        h(
          'tr',
          { dataset: { host: `${c.host}:${c.port}` } },
          h('td', {}, c.name ?? '—'),
          h('td', {}, c.hardware ?? ''),
          h('td', {}, `${c.host}:${c.port}`),
          h('td', {}, c.profiles.join(' ')),
          h(
            'td',
            {},
            c.configured
              ? t('configuredAs', { id: c.configured })
              : h('button', { type: 'button', class: 'small', onclick: () => openCamera(c) }, t('testAdd')),
          ),
        ),
      ),
    );
  }

  function openCamera(c) {
    const out = h('div', { id: 'probe-report' });
    const addMsg = h('div', { id: 'add-camera-message' });
    const f = h(
      'form',
      { class: 'card', id: 'camera-form' },
      h('h2', {}, `${c.name ?? c.host} · ${c.host}:${c.port}`),
      h(
        'div',
        { class: 'grid2' },
        field(t('username'), h('input', { name: 'username', value: 'admin', required: true })),
        field(t('password'), h('input', { name: 'password', type: 'password', required: true })),
        field(t('name'), h('input', { name: 'name', value: c.name ?? '', required: true })),
        field(
          t('grid'),
          select(
            'grid',
            grids.map((g) => [g.code, g.name]),
            grids[0]?.code,
          ),
        ),
        field(
          t('point'),
          select(
            'point',
            POINTS.map((p) => [p, pointLabel(p)]),
            'gate',
          ),
        ),
        field(t('building'), h('input', { name: 'building' })),
        field(t('gbId'), h('input', { name: 'gbId', inputmode: 'numeric', maxlength: 20 })),
      ),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', id: 'probe-camera', onclick: () => test() }, t('test')),
        h('button', { type: 'submit', class: 'primary', id: 'add-camera' }, t('add')),
      ),
      out,
      addMsg,
    );
    const login = () => {
      const v = formValues(f);
      return { host: c.host, port: c.port, username: v.username, password: v.password };
    };
    async function test() {
      replace(out, t('loading'));
      try {
        showReport(out, (await api('/api/installer/cameras/probe', { body: login() })).report);
      } catch (err) {
        notice(out, errText(err));
      }
    }
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = formValues(f);
      try {
        const r = await api('/api/installer/cameras', {
          body: {
            ...login(),
            name: v.name,
            grid: v.grid,
            place: { point: v.point, ...(v.building ? { building: v.building } : {}) },
            ...(v.gbId ? { gbId: v.gbId } : {}),
          },
        });
        showReport(out, r.report);
        notice(addMsg, t('added', { name: `${r.device.name} (${r.device.id})` }), 'ok');
        c.configured = r.device.id;
        draw();
      } catch (err) {
        if (err.body?.report) showReport(out, err.body.report);
        notice(addMsg, errText(err));
      }
    });
    replace(detail, f);
    f.scrollIntoView();
  }

  function showReport(el, r) {
    replace(
      el,
      h('p', { class: r.ok ? 'ok-text' : 'bad-text', id: 'probe-result' }, r.ok ? t('probeOk') : t('probeFailed')),
      r.problems.length
        ? h(
            'ul',
            {},
            r.problems.map((p) => h('li', { class: 'late' }, p)),
          )
        : null,
      h(
        'div',
        { class: 'grid2' },
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, t('deviceInfo')),
          h(
            'dd',
            { id: 'probe-device' },
            r.device ? `${r.device.manufacturer} ${r.device.model} · ${r.device.firmwareVersion} · SN ${r.device.serialNumber}` : '—',
          ),
          h('dt', {}, t('profiles')),
          h('dd', {}, r.profiles.map((p) => `${p.name} ${p.encoding ?? ''} ${p.width ?? '?'}×${p.height ?? '?'}`).join('; ') || '—'),
          h('dt', {}, t('clockOffset')),
          h('dd', { class: r.clock?.skewed ? 'late' : '' }, r.clock ? `${(r.clock.offsetMs / 1000).toFixed(1)} s (${r.clock.dateTimeType ?? '?'})` : '—'),
          h('dt', {}, t('eventsSub')),
          h(
            'dd',
            { class: r.events.ok ? 'ok-text' : r.events.detail === 'not tried' ? 'muted' : 'late' },
            r.events.ok ? `OK (${r.events.initialStates})` : (r.events.detail ?? '—'),
          ),
          h('dt', {}, 'PTZ'),
          h('dd', {}, r.ptz ? '✔' : '—'),
        ),
        r.snapshot
          ? h('img', { src: r.snapshot.dataUrl, alt: 'snapshot', id: 'probe-snapshot', style: { maxWidth: '100%', borderRadius: '8px' } })
          : h('p', { class: 'muted' }, t('noSnapshots')),
      ),
    );
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    notice(msg, '');
    const list = targets.value
      .split(/[\s,，]+/)
      .map((x) => x.trim())
      .filter(Boolean);
    try {
      scan = (await api('/api/installer/discovery', { body: { targets: list, multicast: multicast.checked || list.length === 0, timeoutMs: 3000 } })).scan;
      draw();
    } catch (err) {
      notice(msg, errText(err));
    }
  });
  onLive('discovery', async (d) => {
    if (!scan || d.scanId !== scan.id) return;
    if (d.camera) scan.found.push(d.camera);
    if (d.total !== undefined) Object.assign(scan, { done: d.done, total: d.total });
    if (d.finished) scan = (await api('/api/installer/discovery')).scan;
    draw();
  });

  replace(
    main,
    h('h1', {}, t('discovery')),
    form,
    h(
      'div',
      { class: 'card table-wrap' },
      h(
        'table',
        { class: 'table', id: 'found' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [t('name'), 'hardware', 'IP', 'ONVIF', ''].map((x) => h('th', {}, x)),
          ),
        ),
        rows,
      ),
    ),
    detail,
  );
  draw();
}
