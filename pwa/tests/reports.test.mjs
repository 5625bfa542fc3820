// reports.js: what a phone tells the audit log when work goes with its data, and how a report
// the server refuses for good is not retried after every sync forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../api.js';
import { lostReport, sendReport } from '../reports.js';

const report = () => lostReport('pin_wipe', [{ change_id: 'c1', type: 'visit', id: 'v1', op: 'put', created_at: 't' }]);

function api(...answers) {
  const sent = [];
  return {
    sent,
    reportEvent: async (body) => {
      sent.push(body);
      const a = answers.shift();
      if (a) throw a;
      return { ok: true };
    },
  };
}

test('refused as naming records this user may not see: sent again without the ids, the count kept', async () => {
  const a = api(new ApiError(403, 'forbidden', 'not yours'));
  assert.deepEqual(await sendReport(a, report()), { ok: true });
  assert.equal(a.sent.length, 2);
  assert.deepEqual(a.sent[1].entity_ids, []);
  assert.equal(a.sent[1].details.entity_ids_withheld, 1);
  assert.equal(a.sent[1].details.count, 1);
});

test('any other refusal of its content is dropped, not kept to be sent again', async () => {
  const a = api(new ApiError(422, 'validation_failed', 'bad'));
  assert.equal(await sendReport(a, report()), null);
  const b = api(new ApiError(403, 'forbidden', 'x'), new ApiError(403, 'forbidden', 'x'));
  assert.equal(await sendReport(b, report()), null);  // refused without ids too: dropped
  assert.equal(b.sent.length, 2);
});

test('a failure that may pass later throws, so the caller keeps the report', async () => {
  for (const err of [new ApiError(503, 'busy', 'later'), new ApiError(401, 'token_expired', 'x'),
    new ApiError(429, 'rate_limited', 'x'), new ApiError(0, 'network', 'x'), new ApiError(0, 'timeout', 'x'),
    Object.assign(new Error('offline'), { code: 'network' })]) {
    await assert.rejects(sendReport(api(err), report()));
  }
});
