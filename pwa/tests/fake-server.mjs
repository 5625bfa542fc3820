// A small in-process stand-in for the sync server, enough of PROTOCOL.md for
// the engine tests: per-field HLC wins, versions, idempotent change ids,
// cursor pages, removed entries, reset, tokens and injected failures.
import * as hlc from '../hlc.js';

export function createFakeServer({ now = () => Date.now() } = {}) {
  const entities = new Map(); // "type:id" -> {type, id, version, fields, meta: {field: hlc}, seq}
  const results = new Map(); // change_id -> result
  const removals = []; // {seq, type, id}
  const hidden = new Set(); // left the user's scope
  const requests = [];
  const failures = []; // queued {path, status, code, afterApply}
  const tokens = { access: 'access-1', refresh: 'refresh-1', n: 1, usedRefresh: new Set() };
  let seq = 0;
  let oldestCursor = 0;
  let clock = null;
  const stamp = () => { clock = hlc.send(clock, now(), 'server'); return clock; };

  function put(type, id, fields, changeHlc) {
    const k = `${type}:${id}`;
    const e = entities.get(k) || { type, id, version: 0, fields: {}, meta: {}, seq: 0 };
    const lost = [];
    for (const [name, value] of Object.entries(fields)) {
      if (e.meta[name] && e.meta[name] >= changeHlc) { lost.push(name); continue; }
      e.fields[name] = value;
      e.meta[name] = changeHlc;
    }
    if (lost.length < Object.keys(fields).length || e.version === 0) {
      e.version += 1;
      seq += 1;
      e.seq = seq;
    }
    entities.set(k, e);
    return { e, lost };
  }

  function push(body) {
    const out = [];
    for (const ch of body.changes) {
      if (results.has(ch.change_id)) { out.push({ ...results.get(ch.change_id), status: 'duplicate' }); continue; }
      const existing = entities.get(`${ch.type}:${ch.id}`);
      let r;
      if (ch.fields && ch.fields.bad) {
        r = { change_id: ch.change_id, status: 'rejected', version: null, lost_fields: [],
              errors: [{ field: 'bad', code: 'validation_failed', message: 'bad is not a field' }] };
      } else if (existing && existing.fields.status === 'submitted' && ['visit', 'conversation'].includes(ch.type)) {
        r = { change_id: ch.change_id, status: 'rejected', version: null, lost_fields: [],
              errors: [{ field: null, code: 'immutable', message: 'submitted records cannot change' }] };
      } else {
        const { e, lost } = put(ch.type, ch.id, ch.fields, ch.hlc);
        r = { change_id: ch.change_id, status: lost.length ? 'merged' : 'applied', version: e.version,
              errors: [], lost_fields: lost };
        results.set(ch.change_id, r);
      }
      out.push(r);
    }
    return { results: out, server_hlc: stamp(), server_time: new Date(now()).toISOString() };
  }

  function pull(cursorText, limit) {
    const cursor = cursorText ? Number(cursorText) : 0;
    if (cursorText && cursor < oldestCursor) return { reset: true, changes: [], cursor: null, has_more: false };
    const items = [];
    for (const e of entities.values()) if (e.seq > cursor && !hidden.has(`${e.type}:${e.id}`)) items.push({ seq: e.seq, change: { type: e.type, id: e.id, version: e.version, deleted: false, fields: { ...e.fields, id: e.id } } });
    if (cursorText) for (const r of removals) if (r.seq > cursor) items.push({ seq: r.seq, change: { type: r.type, id: r.id, removed: true } });
    items.sort((a, b) => a.seq - b.seq);
    const page = items.slice(0, limit);
    const last = page.length ? page[page.length - 1].seq : Math.max(cursor, seq);
    return { changes: page.map((p) => p.change), cursor: String(items.length > limit ? last : Math.max(last, seq)),
             has_more: items.length > limit, server_hlc: stamp(), server_time: new Date(now()).toISOString() };
  }

  function json(status, body, headers = {}) {
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
  }
  const error = (status, code, retryAfter) => (retryAfter === undefined
    ? json(status, { error: { code, message: code, details: {} } })
    : json(status, { error: { code, message: code, details: { retry_after: retryAfter } } },
      { 'Retry-After': String(retryAfter) }));

  async function fetch(url, init = {}) {
    const u = new URL(url, 'http://fake');
    const path = u.pathname;
    const body = init.body ? JSON.parse(init.body) : undefined;
    const auth = (init.headers && init.headers.Authorization) || '';
    requests.push({ path, method: init.method, body, auth, search: u.search });
    const f = failures.findIndex((x) => path.endsWith(x.path));
    let fail = null;
    if (f >= 0) fail = failures.splice(f, 1)[0];
    if (fail && fail.network && !fail.afterApply) throw new TypeError('Failed to fetch');
    if (fail && fail.status) return error(fail.status, fail.code, fail.retryAfter);
    if (path === '/api/auth/refresh') {
      if (tokens.usedRefresh.has(body.refresh_token)) return error(401, 'device_revoked');
      tokens.usedRefresh.add(body.refresh_token);
      tokens.n += 1;
      tokens.access = `access-${tokens.n}`;
      tokens.refresh = `refresh-${tokens.n}`;
      return json(200, { access_token: tokens.access, refresh_token: tokens.refresh, expires_in: 900 });
    }
    if (init.headers['Doorstep-Protocol'] !== '1') return error(426, 'upgrade_required');
    if (auth !== `Bearer ${tokens.access}`) return error(401, 'token_expired');
    if (path === '/api/sync/push') {
      const answer = push(body);
      if (fail && fail.afterApply) throw new TypeError('Failed to fetch'); // applied, answer lost
      return json(200, answer);
    }
    if (path === '/api/sync/pull') {
      return json(200, pull(u.searchParams.get('cursor'), Number(u.searchParams.get('limit') || 500)));
    }
    return error(404, 'not_found');
  }

  return {
    entities, requests, tokens, fetch, put,
    get seq() { return seq; },
    /** Make the next request to a path fail: {path, status, code, retryAfter (s)} or {path, network: true, afterApply}. */
    failNext(f) { failures.push(f); },
    remove(type, id) { seq += 1; removals.push({ seq, type, id }); hidden.add(`${type}:${id}`); },
    expireTokens() { tokens.n += 1; tokens.access = `access-${tokens.n}`; },
    forgetBefore(n) { oldestCursor = n; },
    get(type, id) { return entities.get(`${type}:${id}`); },
    stampNow: stamp,
  };
}
