// The HTTP side of PROTOCOL.md: JSON calls, error bodies, the protocol header,
// and refresh-on-expiry with rotating refresh tokens (one refresh at a time).

export const PROTOCOL_VERSION = '1';
/** Every request gives up after this long (docs/pwa.md, "Sync status"). */
export const DEFAULT_TIMEOUT_MS = 20_000;

/** The request timeout from the page's `?timeout=SECONDS` (tests), else the default. */
export function timeoutMsFrom(search = '') {
  const raw = new URLSearchParams(search).get('timeout');
  if (raw === null || !/^\d+(\.\d+)?$/.test(raw)) return DEFAULT_TIMEOUT_MS;
  return Math.min(120_000, Math.max(500, Math.round(Number(raw) * 1000)));
}

/** Retry-After as seconds: a number of seconds or an HTTP date; NaN when neither. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (value === null || value === undefined || value === '') return NaN;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? NaN : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * The phone's report on every call (docs/protocol.md §2.7): `unsent` changes in its outbox,
 * the shell version it runs and its last successful sync (empty when it has none).
 */
export function statusHeaders({ unsent, appVersion, lastSync } = {}) {
  const out = {};
  if (Number.isInteger(unsent) && unsent >= 0) out['Doorstep-Unsent'] = String(unsent);
  if (typeof appVersion === 'string' && /^[\x20-\x7e]{1,64}$/.test(appVersion)) out['Doorstep-App-Version'] = appVersion;
  out['Doorstep-Last-Sync'] = typeof lastSync === 'string' && /^[\x20-\x7e]{1,40}$/.test(lastSync) ? lastSync : '';
  return out;
}

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
 * device_id, user, …}; `deviceStatus()` (optional) gives {unsent, appVersion,
 * lastSync} for the status headers of every request; `lock(name, fn)` runs fn exclusively (Web Locks in the
 * browser), so two tabs never present the same refresh token twice. A request
 * that has not answered within `timeoutMs` is aborted: ApiError `timeout`.
 */
export function createApi({
  base = '/api', getSession, setSession, fetchImpl, lock = (_n, fn) => fn(), timeoutMs = DEFAULT_TIMEOUT_MS,
  deviceStatus = null,
}) {
  const doFetch = fetchImpl || ((...a) => globalThis.fetch(...a));
  let refreshing = null;

  async function send(method, path, body, token) {
    const headers = { Accept: 'application/json', 'Doorstep-Protocol': PROTOCOL_VERSION };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    if (deviceStatus) {
      try { Object.assign(headers, statusHeaders(await deviceStatus())); } catch { /* sent without the report */ }
    }
    let resp;
    let text;
    const abort = new AbortController();
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => { timedOut = true; abort.abort(); }, timeoutMs) : null;
    try {
      resp = await doFetch(base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
        signal: abort.signal,
      });
      text = await resp.text();
    } catch (err) {
      if (timedOut) {
        throw new ApiError(0, 'timeout', `The server did not answer within ${Math.ceil(timeoutMs / 1000)} s.`, { timeout_ms: timeoutMs });
      }
      throw new ApiError(0, 'network', 'No connection to the server.', { cause: String(err) });
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!resp.ok) {
      const e = (data && data.error) || {};
      const details = { ...(e.details || {}) };
      const retryAfter = resp.headers && resp.headers.get && resp.headers.get('Retry-After');
      if (retryAfter && details.retry_after === undefined) details.retry_after = retryAfterSeconds(retryAfter);
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
