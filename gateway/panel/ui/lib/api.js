/* global window */
/** Calls to the box's API: JSON in and out, the session's CSRF token on every state change. */
let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error ?? 'error';
    this.body = body ?? {};
  }
}

export async function api(path, opts = {}) {
  const method = opts.method ?? (opts.body !== undefined ? 'POST' : 'GET');
  const headers = { accept: 'application/json' };
  let body;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] = opts.contentType;
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  if (res.status === 401 && !opts.noRedirect) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
    throw new ApiError(401, { error: 'unauthenticated', message: 'sign in first' });
  }
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : { message: String(data).slice(0, 200) });
  return data;
}
