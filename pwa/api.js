// The HTTP side of PROTOCOL.md: JSON calls, error bodies, the protocol header,
// and refresh-on-expiry with rotating refresh tokens (one refresh at a time).

export const PROTOCOL_VERSION = '1';

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

/**
 * `getSession`/`setSession` load and store {access_token, refresh_token,
 * device_id, user, …}; `lock(name, fn)` runs fn exclusively (Web Locks in the
 * browser), so two tabs never present the same refresh token twice.
 */
export function createApi({ base = '/api', getSession, setSession, fetchImpl, lock = (_n, fn) => fn() }) {
  const doFetch = fetchImpl || ((...a) => globalThis.fetch(...a));
  let refreshing = null;

  async function send(method, path, body, token) {
    const headers = { Accept: 'application/json', 'Doorstep-Protocol': PROTOCOL_VERSION };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let resp;
    let text;
    try {
      resp = await doFetch(base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
      });
      text = await resp.text();
    } catch (err) {
      throw new ApiError(0, 'network', 'No connection to the server.', { cause: String(err) });
    }
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!resp.ok) {
      const e = (data && data.error) || {};
      const details = { ...(e.details || {}) };
      const retryAfter = resp.headers && resp.headers.get && resp.headers.get('Retry-After');
      if (retryAfter && details.retry_after === undefined) details.retry_after = Number(retryAfter);
      throw new ApiError(resp.status, e.code || `http_${resp.status}`, e.message || `The server answered ${resp.status}.`, details);
    }
    return data;
  }

  function refresh(stale) {
    if (!refreshing) {
      refreshing = lock('doorstep-auth', async () => {
        const current = await getSession();
        if (!current) throw new ApiError(401, 'unauthenticated', 'Please sign in again.');
        // Another tab (or an earlier call) already refreshed: use its token.
        if (stale && current.access_token !== stale.access_token) return current;
        const data = await send('POST', '/auth/refresh', { refresh_token: current.refresh_token });
        const next = {
          ...current,
          access_token: data.access_token,
          refresh_token: data.refresh_token,
          expires_at: Date.now() + (data.expires_in || 900) * 1000,
        };
        await setSession(next);
        return next;
      }).finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  async function call(method, path, body) {
    let session = await getSession();
    if (!session) throw new ApiError(401, 'unauthenticated', 'Please sign in.');
    try {
      return await send(method, path, body, session.access_token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'token_expired') throw err;
    }
    session = await refresh(session);
    return send(method, path, body, session.access_token);
  }

  return {
    login: (username, password, deviceName) =>
      send('POST', '/auth/login', { username, password, device_name: deviceName }),
    logout: () => call('POST', '/auth/logout', {}),
    /** A device event for the audit log; `session` signs it when it is not stored yet. */
    reportEvent: (body, session) => (session
      ? send('POST', '/audit/events', body, session.access_token)
      : call('POST', '/audit/events', body)),
    refresh: () => refresh(null),
    push: (body) => call('POST', '/sync/push', body),
    pull: (cursor, limit) => {
      const q = new URLSearchParams();
      if (cursor) q.set('cursor', cursor);
      if (limit) q.set('limit', String(limit));
      const qs = q.toString();
      return call('GET', `/sync/pull${qs ? `?${qs}` : ''}`);
    },
  };
}
