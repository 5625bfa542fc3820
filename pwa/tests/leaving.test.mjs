// Leaving a phone with work on it (issue #15): signing out or "Forgot PIN?" first counts
// what has not reached the office (localwork.js); signing out deletes it only when the
// officer confirmed, and the office is told (session.js). Also the routes of the
// follow-up forms and of a change to correct (router.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workCounts, countLocalWork, lossLines, lossSentence, signedOutMessage } from '../localwork.js';
import { createSession, wipeMessage } from '../session.js';

test('a draft that needs correcting counts once, under needs correcting', () => {
  assert.deepEqual(workCounts({ unsent: 2, drafts: 3, needsCorrecting: 1 }), { unsent: 2, drafts: 2, needsCorrecting: 1, total: 5 });
  assert.deepEqual(workCounts(), { unsent: 0, drafts: 0, needsCorrecting: 0, total: 0 });
});

test('the counts come from the summaries db.js keeps in the clear: unsent by record, as the status bar', async () => {
  const store = {
    outboxSummary: async () => ({ records: 1, entries: 3, oldest: null }),
    draftSummary: async () => ({ drafts: 2, needsCorrecting: 1 }),
  };
  assert.deepEqual(await countLocalWork(store), { unsent: 1, drafts: 1, needsCorrecting: 1, total: 3 });
});

test('what would be lost, in words', () => {
  const w = workCounts({ unsent: 1, drafts: 3, needsCorrecting: 1 });
  assert.deepEqual(lossLines(w), ['1 change not sent yet', '2 drafts not finished', '1 change that needs correcting']);
  assert.equal(lossSentence(w), '1 change not sent yet, 2 drafts not finished and 1 change that needs correcting');
  assert.equal(lossSentence(workCounts({ drafts: 1 })), '1 draft not finished');
  assert.equal(lossSentence(workCounts({ unsent: 2, needsCorrecting: 2 })), '2 changes not sent yet and 2 changes that need correcting');
  assert.deepEqual(lossLines(workCounts()), []);
  assert.equal(signedOutMessage(), 'You have signed out. Nothing is left on this phone.');
  assert.match(signedOutMessage(w), /Deleted as you asked: 1 change not sent yet, .* The office has been told\.$/);
  assert.match(signedOutMessage(w, { told: false }), /The office will be told the next time anyone signs in/);
});

// --- session.signOut with fakes ------------------------------------------------------------
function fakes({ unsent = 0, drafts = 0, needsCorrecting = 0, reportFails = false } = {}) {
  const calls = [];
  const lost = Array.from({ length: unsent }, (_, i) => ({
    change_id: `c${i}`, type: 'visit', id: `v${i}`, op: 'put', created_at: '2026-11-23T08:00:00Z', sent: false,
  }));
  const db = {
    outboxSummary: async () => ({ records: unsent, entries: unsent, oldest: null }),
    draftSummary: async () => ({ drafts: drafts + needsCorrecting, needsCorrecting }),
    lostChanges: async () => lost,
    lockInfo: async () => ({ deviceId: 'dev-1', userId: 'user-1', hasPin: true, failures: 0, wipeReport: null }),
    wipe: async (opts) => { calls.push(['wipe', opts]); },
    clearWipeReport: async () => { calls.push(['clearWipeReport']); },
  };
  const api = {
    reportEvent: async (body) => { calls.push(['report', body]); if (reportFails) throw Object.assign(new Error('offline'), { code: 'network' }); },
    logout: async () => { calls.push(['logout']); },
    login: async () => ({ access_token: 'a', refresh_token: 'r', device_id: 'dev-2', user: { id: 'user-1' } }),
  };
  const state = { session: { user: { id: 'user-1' } }, hasPin: true, locked: false, wipeReport: null };
  const hooks = {
    render: async () => { calls.push(['render']); }, refreshStatus: () => {}, startSync: () => {},
    stopSync: async () => {}, syncNow: async () => {}, requestPersist: () => {},
    idle: { start: () => {}, stop: () => {} },
  };
  return { db, api, state, hooks, calls };
}

function withBrowserGlobals(fn) {
  return async () => {
    const saved = { navigator: globalThis.navigator, location: globalThis.location, BroadcastChannel: globalThis.BroadcastChannel };
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true, writable: true });
    globalThis.location = { hash: '#/' };
    globalThis.BroadcastChannel = undefined;
    try { await fn(); } finally {
      Object.defineProperty(globalThis, 'navigator', { value: saved.navigator, configurable: true, writable: true });
      globalThis.location = saved.location;
      globalThis.BroadcastChannel = saved.BroadcastChannel;
    }
  };
}

test('sign-out without the officer\'s yes deletes nothing while work is on the phone', withBrowserGlobals(async () => {
  const f = fakes({ drafts: 1 });
  const session = createSession({ state: f.state, db: f.db, api: f.api, hooks: f.hooks });
  assert.equal(await session.signOut(), false);
  assert.ok(!f.calls.some(([k]) => k === 'wipe' || k === 'logout'));
  assert.match(f.state.flash, /Nothing was deleted/);
}));

test('nothing at stake: sign-out wipes at once, with no report', withBrowserGlobals(async () => {
  const f = fakes();
  const session = createSession({ state: f.state, db: f.db, api: f.api, hooks: f.hooks });
  assert.equal(await session.signOut(), true);
  assert.deepEqual(f.calls.filter(([k]) => k !== 'render').map(([k]) => k), ['logout', 'wipe']);
  assert.equal(f.state.signinMessage, 'You have signed out. Nothing is left on this phone.');
}));

test('unsent changes are never deleted by a sign-out, even asked to discard', withBrowserGlobals(async () => {
  const f = fakes({ unsent: 1, drafts: 2 });
  const session = createSession({ state: f.state, db: f.db, api: f.api, hooks: f.hooks });
  assert.equal(await session.signOut({ discard: true }), false);
  assert.ok(!f.calls.some(([k]) => k === 'wipe' || k === 'logout' || k === 'report'));
  assert.match(f.state.flash, /changes not sent yet never are/);
}));

test('confirmed, the loss is reported to the audit log before the sign-in ends, then everything goes', withBrowserGlobals(async () => {
  const f = fakes({ drafts: 2, needsCorrecting: 1 });
  const session = createSession({ state: f.state, db: f.db, api: f.api, hooks: f.hooks });
  assert.equal(await session.signOut({ discard: true }), true);
  const order = f.calls.filter(([k]) => k !== 'render');
  assert.deepEqual(order.map(([k]) => k), ['report', 'logout', 'wipe']);
  const report = order[0][1];
  assert.equal(report.event, 'device_wiped');
  assert.equal(report.details.reason, 'signed_out');
  assert.equal(report.details.count, 0);
  assert.deepEqual([report.details.unsent, report.details.drafts, report.details.needs_correcting], [0, 2, 1]);
  assert.deepEqual(order[2][1], { report: null });
  assert.match(f.state.signinMessage, /Deleted as you asked: 2 drafts not finished and 1 change that needs correcting\. The office has been told\./);
}));

test('offline, the report waits in the wipe report and goes with the next sign-in', withBrowserGlobals(async () => {
  const f = fakes({ drafts: 2, reportFails: true });
  const session = createSession({ state: f.state, db: f.db, api: f.api, hooks: f.hooks });
  await session.signOut({ discard: true });
  const wipe = f.calls.find(([k]) => k === 'wipe')[1];
  assert.equal(wipe.report.event, 'device_wiped');
  assert.equal(wipe.report.details.drafts, 2);
  assert.match(f.state.signinMessage, /will be told the next time anyone signs in/);
  assert.equal(f.state.signinMessage, wipeMessage(wipe.report)); // what a reload says too

  f.api.reportEvent = async (body) => { f.calls.push(['report', body]); };
  f.calls.length = 0;
  await session.signIn('officer', 'secret', 'Work phone');
  const [, sent] = f.calls.find(([k]) => k === 'report');
  assert.equal(sent.event, 'device_wiped');
  assert.equal(sent.details.drafts, 2);
  assert.deepEqual(f.state.pending.lost, [], 'the officer was asked: no "could not be kept" list after signing in');
  assert.equal(f.state.wipeReport, null);
  assert.ok(f.calls.some(([k]) => k === 'clearWipeReport'));
}));

test('the routes of the follow-up forms and of a change to correct', async () => {
  // the views import only what runs in node at load time; drawing needs a DOM, routing does not
  const { route, renderCorrect } = await import('../router.js');
  const { renderVisit } = await import('../views/visit.js');
  const { renderConversation } = await import('../views/conversation.js');
  const v = route('#/case/c-1/visit/v-2/follows/r-3');
  assert.equal(v.view, renderVisit);
  assert.deepEqual(v.params, { caseId: 'c-1', id: 'v-2', followUpOf: 'r-3' });
  const c = route('#/case/c-1/conversation/k-2/follows/r-3');
  assert.equal(c.view, renderConversation);
  assert.deepEqual(c.params, { caseId: 'c-1', id: 'k-2', followUpOf: 'r-3' });
  assert.deepEqual(route('#/case/c-1/visit/v-2/conversation/k-3').params, { caseId: 'c-1', visitId: 'v-2', id: 'k-3' });
  const x = route('#/correct/household/h-1');
  assert.equal(x.view, renderCorrect);
  assert.deepEqual([x.section, x.params], ['drafts', { type: 'household', id: 'h-1' }]);
  assert.equal(route('#/nowhere').section, 'caseload');
});
