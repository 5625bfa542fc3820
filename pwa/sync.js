// The sync client: push the outbox in batches, then pull until has_more is
// false (PROTOCOL §3–4), over a store (db.js, or a memory store in tests) and
// an api (api.js, or a fake). The scheduler decides when to run and backs off.
import { toWire, key } from './outbox.js';
import { describeFailure, retryText } from './status.js';

export function createSyncEngine({ store, api, batchSize = 200, pullLimit = 500 }) {
  // A phone revoked as returned (docs/protocol.md §2.6): the server takes its pushes, each
  // answered `final: true`, until the one that empties its outbox; then the phone wipes.
  let finalSent = null; // changes its final push carried (null: not revoked as returned)
  let finalOver = false; // the push that emptied the outbox was answered

  async function push() {
    let size = batchSize;
    let sent = 0;
    let lastFinal = false;
    const session = await store.getMeta('session');
    for (;;) {
      const batch = await store.pendingChanges(size);
      if (!batch.length) {
        if (lastFinal) finalOver = true;
        return sent;
      }
      let res;
      try {
        res = await api.push({ client_id: session && session.device_id, changes: batch.map(toWire) });
      } catch (err) {
        if (err.code !== 'payload_too_large') throw err;
        if (batch.length > 1) { size = Math.max(1, Math.floor(batch.length / 2)); continue; }
        // One change the server will never take: tell the officer, stop retrying it.
        await store.settlePush(batch, [{
          change_id: batch[0].change_id, status: 'rejected', lost_fields: [],
          errors: [{ field: null, code: 'payload_too_large', message: 'This change is too large for the server.' }],
        }]);
        continue;
      }
      if (res && res.server_hlc) await store.receiveHlc(res.server_hlc);
      const { settled } = await store.settlePush(batch, (res && res.results) || []);
      if (!settled) throw new Error('The server answered no result for the changes sent.');
      sent += settled;
      lastFinal = !!(res && res.final);
      if (lastFinal) finalSent = (finalSent ?? 0) + settled;
    }
  }

  /** Revoked as returned: what is left of the outbox goes (an empty push when nothing is, so the
   * server knows), then a `device_revoked` error carrying `finalSent` tells the app to wipe. */
  async function finalPush() {
    if (finalSent === null) finalSent = 0;
    try {
      await push();
      if (!finalOver) {
        const session = await store.getMeta('session');
        const res = await api.push({ client_id: session && session.device_id, changes: [] });
        if (res && res.server_hlc) await store.receiveHlc(res.server_hlc);
        finalOver = true;
      }
    } catch (err) {
      throw err && err.code === 'device_revoked' ? revokedAfterFinal(err) : err; // else retried: it goes on
    }
    throw revokedAfterFinal(Object.assign(new Error('This phone was revoked as returned; what it held has been sent.'), {
      code: 'device_revoked', status: 401, details: { kind: 'returned', final_push: false },
    }));
  }

  /** The error that stops the sync for the wipe, with what the final push carried; the engine
   * forgets the final push (it outlives the wipe, and the next sign-in is a new device). */
  function revokedAfterFinal(err) {
    err.finalSent = finalSent;
    finalSent = null;
    finalOver = false;
    return err;
  }

  async function pull() {
    let cursor = (await store.getMeta('cursor')) ?? null;
    let snapshot = cursor === null;
    let seen = new Set();
    let applied = 0;
    let resets = 0;
    for (;;) {
      const res = await api.pull(cursor, pullLimit);
      if (res.reset) {
        if (++resets > 2) throw new Error('The server keeps asking for a fresh start.');
        await push(); // the outbox goes first, then a full snapshot
        await store.setMeta('cursor', null);
        cursor = null;
        snapshot = true;
        seen = new Set();
        continue;
      }
      if (res.server_hlc) await store.receiveHlc(res.server_hlc);
      const changes = res.changes || [];
      if (snapshot) {
        for (const c of changes) {
          if (c.removed || c.deleted) seen.delete(key(c.type, c.id));
          else seen.add(key(c.type, c.id));
        }
      }
      // A snapshot's cursor is saved only when it is complete (with the purge).
      applied += await store.applyPull(changes, snapshot ? {} : { cursor: res.cursor });
      cursor = res.cursor;
      if (!res.has_more) {
        if (snapshot) applied += await store.finishSnapshot(seen, cursor);
        return applied;
      }
    }
  }

  async function syncOnce() {
    if (finalSent !== null) await finalPush(); // a final push that was cut short goes on
    try {
      const pushed = await push();
      if (finalSent !== null) await finalPush(); // the server said `final`
      const pulled = await pull();
      await store.setMeta('last_synced_at', new Date().toISOString());
      return { pushed, pulled };
    } catch (err) {
      if (!err || err.code !== 'device_revoked' || err.finalSent !== undefined) throw err;
      if (err.details && err.details.final_push === true) await finalPush();
      throw finalSent !== null ? revokedAfterFinal(err) : err;
    }
  }

  return { push, pull, syncOnce };
}

/** What an error means for the scheduler: retry later, or stop and tell the app. */
export function classify(err) {
  switch (err && err.code) {
    case 'device_revoked': return 'revoked';
    case 'upgrade_required': return 'upgrade';
    case 'unauthenticated':
    case 'token_expired': return 'signin';
    default: return 'retry';
  }
}

export function backoffDelay(failures, { min = 250, max = 60000 } = {}) {
  return Math.min(min * 2 ** Math.max(0, failures - 1), max);
}

/** The server's `Retry-After` in seconds (429 rate_limited, 503 busy, 507 storage_full), or 0. */
export function retryAfter(err) {
  const d = (err && err.details) || {};
  const after = Number(d.retry_after ?? d.retry_after_s);
  return after > 0 ? after : 0;
}

/**
 * How long to wait after the `failures`-th failure in a row: the backoff, or when the
 * server said `Retry-After`, that doubling while it keeps answering so (at most `max`,
 * but never sooner than the server asked).
 */
export function retryDelay(failures, err, { min = 250, max = 60000 } = {}) {
  const delay = backoffDelay(failures, { min, max });
  const after = retryAfter(err) * 1000;
  if (!after) return delay;
  return Math.max(delay, after, Math.min(after * 2 ** Math.max(0, failures - 1), max));
}

/** The status bar's words for a failed sync that will be retried in `delayMs` (status.js). */
export function retryMessage(err, delayMs) {
  return retryText(describeFailure(err), delayMs);
}

/**
 * `ms` plus up to `spread` (a fraction) more, at random, so phones that failed
 * together do not all come back in step. Never less than `ms`: a server's
 * Retry-After is a minimum.
 */
export function withJitter(ms, random = Math.random, spread = 0.25) {
  return Math.round(ms + ms * spread * Math.min(1, Math.max(0, random())));
}

/**
 * Runs the engine one sync at a time: `run()` while a sync is running asks for
 * one more afterwards. A failed sync is retried with backoff (250 ms, doubling,
 * at most a minute; after a 429/503/507, the server's Retry-After, doubling while
 * it keeps answering so), plus up to 25 % jitter, while online; `online` is only
 * a hint. While a retry is booked, the minute timer and new changes wait for it;
 * while the server's Retry-After runs, only coming back online goes sooner. The
 * outbox is never touched by a failed push: it goes again, whole, on the retry.
 */
export function createScheduler({
  engine, isOnline = () => true, onState = () => {}, onStop = () => {},
  lock = (fn) => fn(), setTimer = setTimeout, clearTimer = clearTimeout, backoff = {},
  now = () => Date.now(), random = Math.random,
}) {
  let running = null;
  let again = false;
  let failures = 0;
  let timer = null;
  let stopped = false;
  let retryAt = null; // when the booked retry runs
  let holdUntil = 0; // the server's Retry-After: nothing but `online` goes sooner

  function schedule(delay) {
    clearTimer(timer);
    timer = setTimer(() => { timer = null; run('retry'); }, delay);
  }

  function run(reason = 'manual') {
    if (stopped) return Promise.resolve();
    if (timer && (reason === 'timer' || reason === 'change')) return running || Promise.resolve();
    if (holdUntil > now() && reason !== 'online' && reason !== 'retry') return running || Promise.resolve();
    if (reason === 'manual' || reason === 'online') failures = 0;
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        if (timer) { clearTimer(timer); timer = null; }
        retryAt = null;
        if (!isOnline()) { onState({ phase: 'offline' }); return; }
        onState({ phase: 'syncing', reason, retrying: failures > 0 });
        try {
          const result = await lock(() => engine.syncOnce());
          failures = 0;
          holdUntil = 0;
          onState({ phase: 'synced', result });
        } catch (err) {
          const kind = classify(err);
          if (kind !== 'retry') {
            stopped = true;
            onState({ phase: 'stopped', error: err, kind });
            onStop(kind, err);
            return;
          }
          failures += 1;
          if (!isOnline()) { onState({ phase: 'offline', error: err }); return; } // `online` runs it again
          const delay = withJitter(retryDelay(failures, err, backoff), random, backoff.jitter);
          const failure = describeFailure(err);
          const message = retryText(failure, delay);
          retryAt = now() + delay;
          holdUntil = failure.serverAsked ? retryAt : 0;
          onState({
            phase: 'error', error: err, retryIn: delay, retryAt, message, failure: { ...failure, text: message },
          });
          schedule(delay);
          return;
        }
      } while (again && !stopped);
    })().finally(() => { running = null; });
    return running;
  }

  return {
    run,
    stop() { stopped = true; clearTimer(timer); timer = null; },
    /** Resolves when the sync under way (if any) has finished. */
    settled() { return running ? running.catch(() => {}) : Promise.resolve(); },
    get failures() { return failures; },
    get stopped() { return stopped; },
    /** When the booked retry runs (ms since the epoch), or null. */
    get retryAt() { return timer ? retryAt : null; },
  };
}
