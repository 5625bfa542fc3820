// A thin stand-in for the sync server's transport that replays golden answers
// (tests/golden/*.json, format in tests/golden/README.md). It decides no merge,
// conflict or order: every push result and pull page it sends is one a vector
// records, and pytest (tests/sync/test_golden.py) checks every vector against the
// engine. What it does itself is the wire around them: the protocol header,
// access tokens and their rotation, and the failures a test injects (413, 503 with
// Retry-After, a lost connection).
//
// A test plays a script of steps, each taken from a vector:
//   pushAnswer(v)            the phone's pushes, in order, are v's batch (in as many
//                            slices as the phone sends); each is answered with v's results
//   lostPush(v, k)           the phone's push is v's state step k: the server applied it
//                            (v's state says so) and the answer never reaches the phone
//   otherDevice(v)           another device pushes v's batch (no request from the phone)
//   pullAnswer(v, {since})   the phone's pulls are answered with the pages of v's pull
//   resetAnswer(cursor)      a pull from an old cursor answers reset (§4.5)
// The server is at a position: the changes it has accepted, in order. Each step says
// where it starts and ends (a vector's state, then its state with the batch's applied
// and merged changes), the script is refused unless each step starts where the last
// ended, and cursors name positions, so a pull is answered only from the cursor the
// vector's own pull starts at. Requests that do not match the next step are answered
// 500 `no_recorded_answer` and listed in `mismatches`.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const DIR = new URL('../../tests/golden/', import.meta.url);
const VECTORS = new Map(readdirSync(DIR).filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8'))).map((v) => [v.name, v]));

/** A golden vector by its name (a fresh copy). */
export function vector(name) {
  if (!VECTORS.has(name)) throw new Error(`no golden vector named ${name}`);
  return structuredClone(VECTORS.get(name));
}

const canonical = (x) => (Array.isArray(x) ? `[${x.map(canonical).join(',')}]`
  : x && typeof x === 'object' ? `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonical(x[k])}`).join(',')}}`
    : JSON.stringify(x));

/** The name of a server position: the changes accepted so far, each with who sent it. */
function position(steps) {
  const accepted = steps.flatMap((s) => s.changes.map((c) => ({ by: s.actor, change: c })));
  const hash = createHash('sha1').update(canonical(accepted)).digest('hex').slice(0, 12);
  return `pos-${accepted.length}-${hash}`;
}

const WRITES = new Set(['applied', 'merged']); // duplicate and rejected write nothing
const batchStep = (v, count = v.batch.length) => ({
  actor: v.actor,
  changes: v.batch.slice(0, count).filter((_, i) => WRITES.has(v.expect.results[i].status)),
});
/** Where v's batch starts and where it ends. */
export const before = (v) => position(v.state);
export const after = (v) => position([...v.state, batchStep(v)]);

function serverHlc(v) {
  if (!v.expect.server_hlc) throw new Error(`vector ${v.name} gives no server_hlc to answer with`);
  return v.expect.server_hlc;
}

/** The phone's pushes are v's batch (or its first `count` changes), answered with v's results. */
export function pushAnswer(v, { count = v.batch.length } = {}) {
  return {
    kind: 'push', what: `push of ${v.name}`, device: v.actor.device_id, v,
    changes: v.batch.slice(0, count), results: v.expect.results.slice(0, count),
    from: before(v), to: position([...v.state, batchStep(v, count)]), sent: 0,
  };
}

/** The phone's push is v's state step k: applied on the server, its answer lost. */
export function lostPush(v, k) {
  const step = v.state[k];
  return {
    kind: 'lost', what: `lost push of ${v.name} state ${k}`, device: step.actor.device_id, v,
    changes: step.changes, from: position(v.state.slice(0, k)), to: position(v.state.slice(0, k + 1)),
  };
}

/** Another device pushes v's batch: the server moves on, the phone sends nothing. */
export function otherDevice(v) {
  return { kind: 'other', what: `${v.name} from ${v.actor.device_id}`, from: before(v), to: after(v) };
}

/** The phone's pulls are answered with the pages of v's pull `since` (of `device`, at `limit`). */
export function pullAnswer(v, { since = 'before_batch', device = 'dev-a', limit } = {}) {
  const p = v.expect.pull.find((x) => x.since === since && x.as.device_id === device && x.limit === limit);
  if (!p) throw new Error(`${v.name} records no pull since ${since} for ${device} at limit ${limit}`);
  const end = after(v);
  return {
    kind: 'pull', what: `pull of ${v.name} since ${since}`, device, v, p, limit: p.limit,
    cursor: since === 'start' ? null : before(v), from: end, to: end, page: 0,
    // the last page's cursor names the position; the ones before it, that position's pages
    cursors: p.pages.map((_, i) => (i === p.pages.length - 1 ? end : `${end}/page-${i + 1}`)),
  };
}

/** A pull from `cursor` answers reset: the server no longer answers for it. */
export function resetAnswer(cursor) {
  return { kind: 'reset', what: `reset of ${cursor}`, cursor };
}

export function createFakeServer({ device = 'dev-a' } = {}) {
  const requests = [];
  const mismatches = [];
  const failures = []; // queued {path, status, code, retryAfter} or {path, network: true}
  const tokens = { access: 'access-1', refresh: 'refresh-1', n: 1, usedRefresh: new Set() };
  const steps = [];
  let next = 0;
  let lastCursor;

  function json(status, body, headers = {}) {
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
  }
  const error = (status, code, retryAfter) => (retryAfter === undefined
    ? json(status, { error: { code, message: code, details: {} } })
    : json(status, { error: { code, message: code, details: { retry_after: retryAfter } } },
      { 'Retry-After': String(retryAfter) }));

  /** The next step a request must match; steps with no request of the phone's are passed. */
  function current() {
    while (steps[next] && steps[next].kind === 'other') next += 1;
    return steps[next];
  }
  function mismatch(request, why) {
    const step = current();
    mismatches.push({ request, why, expected: step ? step.what : 'no more requests' });
    return error(500, 'no_recorded_answer');
  }

  function push(body, req) {
    const step = current();
    if (!step || (step.kind !== 'push' && step.kind !== 'lost')) return mismatch(req, 'a push');
    if (body.client_id !== step.device) return mismatch(req, `client_id ${body.client_id}`);
    const n = body.changes.length;
    const want = step.kind === 'lost' ? step.changes : step.changes.slice(step.sent, step.sent + n);
    if (!n || !isDeepStrictEqual(body.changes, want)) return mismatch(req, 'changes other than the vector\'s');
    if (step.kind === 'lost') {
      next += 1;
      throw new TypeError('Failed to fetch'); // applied, answer lost
    }
    const results = step.results.slice(step.sent, step.sent + n);
    step.sent += n;
    if (step.sent === step.changes.length) next += 1;
    req.answered = step.what;
    return json(200, { results, server_hlc: serverHlc(step.v), server_time: step.v.now });
  }

  function pull(cursor, limit, req) {
    const step = current();
    if (step && step.kind === 'reset' && cursor === step.cursor) {
      next += 1;
      req.answered = step.what;
      return json(200, { changes: [], reset: true, cursor: null, has_more: false });
    }
    if (!step || step.kind !== 'pull') return mismatch(req, 'a pull');
    const expected = step.page === 0 ? step.cursor : step.cursors[step.page - 1];
    if (cursor !== expected) return mismatch(req, `cursor ${cursor}, not ${expected}`);
    const page = step.p.pages[step.page];
    // Without a recorded limit, the vector's pages are those of any limit that holds each page.
    if (step.limit !== undefined ? limit !== step.limit : page.changes.length > limit) {
      return mismatch(req, `limit ${limit}`);
    }
    lastCursor = step.cursors[step.page];
    step.page += 1;
    if (step.page === step.p.pages.length) next += 1;
    req.answered = step.what;
    // Items on the wire carry their id in fields too (what the vectors leave out, §4.1).
    const changes = page.changes.map((c) => (c.removed || c.deleted ? c : { ...c, fields: { ...c.fields, id: c.id } }));
    return json(200, { changes, cursor: lastCursor, has_more: page.has_more,
                       server_hlc: serverHlc(step.v), server_time: step.v.now });
  }

  async function fetch(url, init = {}) {
    const u = new URL(url, 'http://fake');
    const path = u.pathname;
    const body = init.body ? JSON.parse(init.body) : undefined;
    const auth = (init.headers && init.headers.Authorization) || '';
    const cursor = u.searchParams.get('cursor');
    const limit = u.searchParams.has('limit') ? Number(u.searchParams.get('limit')) : undefined;
    const req = { path, method: init.method, body, auth, search: u.search, cursor, limit, answered: null };
    requests.push(req);
    const f = failures.findIndex((x) => path.endsWith(x.path));
    const fail = f >= 0 ? failures.splice(f, 1)[0] : null;
    if (fail && fail.network) throw new TypeError('Failed to fetch'); // never reached the server
    if (fail) return error(fail.status, fail.code, fail.retryAfter);
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
    if (path === '/api/sync/push') return push(body, req);
    if (path === '/api/sync/pull') return pull(cursor, limit ?? 500, req);
    return error(404, 'not_found');
  }

  return {
    requests, mismatches, tokens, fetch,
    /** Add steps to the script; each must start where the one before it ends. */
    script(...more) {
      for (const step of more) {
        if (step.device && step.kind !== 'other' && step.device !== device) {
          throw new Error(`${step.what} is device ${step.device}'s, not this phone's (${device})`);
        }
        const last = [...steps].reverse().find((s) => s.to);
        if (last && step.from && step.from !== last.to) {
          throw new Error(`${step.what} does not start where ${last.what} ends`);
        }
        steps.push(step);
      }
      return this;
    },
    /** Every scripted request was made and nothing else was asked. */
    get done() { return current() === undefined && mismatches.length === 0; },
    /** The steps not yet played, and what did not match. */
    get left() { return { steps: steps.slice(next).map((s) => s.what), mismatches }; },
    /** The cursor the last pull page answered. */
    get lastCursor() { return lastCursor; },
    /** Make the next request to a path fail: {path, status, code, retryAfter (s)} or {path, network: true}. */
    failNext(fail) { failures.push(fail); },
    expireTokens() { tokens.n += 1; tokens.access = `access-${tokens.n}`; },
  };
}
