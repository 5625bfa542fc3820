// Drafts: work on this phone that is not final yet (docs/pwa.md, "Drafts and
// rejected work"). One store (db.js `drafts`, sealed like everything personal)
// holds, per form or record key, up to two things:
//
//   values    what a form holds, saved within a second of each change
//             (autosave), whether or not it would pass the checks: validation
//             blocks sending, never typing;
//   rejected  a change the server rejected ("needs correcting"): the fields
//             the officer sent and the server's per-field errors. It stays
//             until it is corrected and sent again, or discarded.
//
// A draft is `{key, type, id, case_id, route, title, values, rejected, updated_at}`.
// The rules here are pure (node tests); `createAutosave` needs only timers and a
// store with getDraft/putDraft/deleteDraft (db.js, or a fake).

export const AUTOSAVE_MS = 400; // well inside "within a second of each change"

/** The draft of one record (a rejected change, or a form editing that record). */
export const recordKey = (type, id) => `${type}:${id}`;
/** The draft of a form that makes a new record when sent (a note, a task). */
export const formKey = (...parts) => `form:${parts.join(':')}`;

/** A draft holds nothing any more. */
export const isEmpty = (d) => !d || (!d.values && !d.rejected);

/**
 * A rejected change (outbox.settle's `correction`) merged into the draft already
 * kept for that record, if any: the fields add up (a later change's values win),
 * the errors are the latest for each field, and what the form held stays.
 */
export function mergeCorrection(existing, c) {
  const prev = existing && existing.rejected;
  const fresh = c.errors || [];
  const fields = new Set(fresh.map((e) => e.field ?? null));
  const errors = [...(prev ? prev.errors.filter((e) => !fields.has(e.field ?? null)) : []), ...fresh];
  return {
    key: recordKey(c.type, c.id),
    type: c.type,
    id: c.id,
    values: null,
    ...(existing || {}),
    // (a note on a case names it; a note on a visit is placed by the Drafts list)
    case_id: (existing && existing.case_id) || c.fields.case_id
      || (c.type === 'note' && c.fields.subject_type === 'case' ? c.fields.subject_id : null) || null,
    updated_at: c.at,
    rejected: {
      op: c.op,
      fields: { ...(prev ? prev.fields : {}), ...c.fields },
      errors,
      change_ids: [...(prev ? prev.change_ids : []), c.change_id],
      at: c.at,
    },
  };
}

/** The server's errors of a draft as [{field, message}], one line per error. */
export function rejectedErrors(draft) {
  return ((draft && draft.rejected && draft.rejected.errors) || [])
    .map((e) => ({ field: e.field ?? null, code: e.code, message: e.message || e.code }));
}

/** A snapshot compared with another, leaving out `ignore` keys (e.g. a GPS fix). */
export function sameSnapshot(a, b, ignore = []) {
  const strip = (s) => {
    if (!s || typeof s !== 'object') return s;
    const out = { ...s };
    for (const k of ignore) delete out[k];
    return out;
  };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

// --- autosave -------------------------------------------------------------------
// Every write goes through one queue, in order, so a later snapshot is never
// overtaken by an earlier one, and `flushAll` can wait for all of them.
let queue = Promise.resolve();
const active = new Set();

/** Resolves when the write is done; never rejects (a failure is logged: locked, or storage gone). */
function enqueue(fn) {
  queue = queue.then(fn).catch((err) => { if (!err || err.code !== 'locked') console.warn('draft', err); });
  return queue;
}

/**
 * Write every form's unsaved changes now (on lock, before the key is dropped;
 * on leaving the page; before a screen reads the drafts) and wait for every
 * write under way. Forms no longer on the screen are forgotten afterwards.
 */
export async function flushAll() {
  for (const a of [...active]) a.flush();
  await queue.catch(() => {});
  for (const a of [...active]) if (!a.alive()) active.delete(a);
}

/** The draft for `key`, after every pending write (so it is never stale). */
export async function loadDraft(store, key) {
  await flushAll();
  try {
    return await store.getDraft(key);
  } catch (err) {
    if (err && err.code === 'locked') throw err;
    console.warn('draft', err);
    return null; // unreadable: the form opens as the record is
  }
}

/**
 * Keep a form's state as a draft while it is filled in. `snapshot()` returns the
 * form's raw values (a plain object); `pristine` is the snapshot of the form as it
 * opened (before a draft was laid over it): a form back at it keeps no values.
 * `meta()` adds what the Drafts list shows (type, id, case_id, route, title).
 * Call `changed()` on every input; `saved()` after the form's work went to the
 * outbox (the draft goes); `discard()` to throw the draft away; `flush()` to write now.
 */
export function createAutosave({
  store, key, snapshot, pristine, meta = () => ({}), ignore = [], alive = () => true,
  delay = AUTOSAVE_MS, onSaved = () => {}, now = () => new Date().toISOString(),
  setTimer = setTimeout, clearTimer = clearTimeout,
}) {
  let base = pristine === undefined ? snapshot() : pristine;
  let timer = null;
  let dirty = false;
  let disposed = false;

  async function write(snap) {
    const existing = await store.getDraft(key);
    const same = sameSnapshot(snap, base, ignore);
    if (same && !(existing && existing.values)) return;
    const next = { ...(existing || {}), key, ...meta(), values: same ? null : snap, updated_at: now() };
    if (isEmpty(next)) await store.deleteDraft(key);
    else await store.putDraft(next);
    onSaved(next);
  }

  const controller = {
    key,
    alive: () => !disposed && alive(),
    get dirty() { return dirty; },
    changed() {
      if (disposed) return;
      active.add(controller); // (forgotten by a flushAll while its form was being built)
      dirty = true;
      clearTimer(timer);
      timer = setTimer(() => { timer = null; controller.flush(); }, delay);
    },
    /** Write the form's state now if it changed since the last write. */
    flush() {
      clearTimer(timer);
      timer = null;
      if (disposed || !dirty) return queue;
      dirty = false;
      const snap = snapshot();
      return enqueue(() => write(snap));
    },
    /** The form's work is in the outbox now: drop the draft; the form is the new baseline. */
    saved() {
      clearTimer(timer);
      timer = null;
      dirty = false;
      base = snapshot();
      return enqueue(() => store.deleteDraft(key));
    },
    /** Throw the draft away (the officer confirmed) and stop. */
    discard() {
      controller.dispose();
      return enqueue(() => store.deleteDraft(key));
    },
    dispose() {
      clearTimer(timer);
      timer = null;
      disposed = true;
      active.delete(controller);
    },
  };
  // One form per key: an older one (a screen left or re-rendered) stops.
  for (const a of [...active]) if (a.key === key) { a.flush(); a.dispose(); }
  active.add(controller);
  return controller;
}

/** Forget every form (tests). */
export function resetAutosaves() {
  for (const a of [...active]) a.dispose();
  queue = Promise.resolve();
}
