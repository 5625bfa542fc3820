"""Sending the queue: through Notify when configured, or out as a CSV for a school's own texting
system. ``doorstep messages send`` (a timer, like retention) and the office's "Send now" both run
``send_due``; a message Notify could not take for a reason worth retrying waits and is tried again
at a later run, up to ``MAX_ATTEMPTS``; a refusal for good is recorded with Notify's words.
Each run also asks Notify how texts sent in the last ``STATUS_DAYS`` went; a text with no final
status by then keeps its last status ("sent") and is not asked about again.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from .. import audit, jobs
from ..office.exports import csv_text
from ..storage import Database
from ..util import now_iso
from .notify import FINAL, Notify, NotifyConfig

MAX_ATTEMPTS = 5
BACKOFF_S = 60.0  # 1, 2, 4, 8 minutes between tries
JOB_KIND = "messages.send"
# Notify keeps a text's delivery status for 7 days; after that asking again only costs a call a run
STATUS_DAYS = 7


def _due(db: Database, limit: int, now: float) -> list[dict[str, Any]]:
    # a message goes through the Notify template of its language where the authority set one
    return db.query("SELECT m.id, m.pupil_id, m.case_id, m.household_id, m.phone, m.body, m.attempts, "
                    "t.notify_template_id FROM messages m LEFT JOIN message_templates t "
                    "ON t.kind = 'praise_family' AND t.language = m.language "
                    "WHERE m.status = 'to_send' AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= ?) "
                    "ORDER BY m.created_at LIMIT ?", (now, limit))


def _ids(m: dict[str, Any]) -> list[str]:
    return [i for i in (m["pupil_id"], m["case_id"], m["household_id"], m["id"]) if i]


def send_due(db: Database, config: NotifyConfig, user_id: str | None = None, limit: int = 500,
             now: float | None = None) -> dict[str, int]:
    """Send what is due (at ``now``, default the time), then ask Notify how earlier texts went.
    Counts of each result."""
    now = time.time() if now is None else now
    notify = Notify(config)
    counts = {"sent": 0, "retry_later": 0, "failed": 0, "status_checked": 0}
    for m in _due(db, limit, now):
        # the family may have said no since the message was queued (set_preferences cancels it)
        if db.query("SELECT status FROM messages WHERE id = ?", (m["id"],))[0]["status"] != "to_send":
            continue
        outcome = notify.send_sms(m["phone"], m["body"], reference=m["id"], template_id=m["notify_template_id"])
        attempts = m["attempts"] + 1
        with db.write() as txn:
            if outcome.sent:
                txn.execute("UPDATE messages SET status = 'sent', channel = 'notify', notify_id = ?, "
                            "notify_status = ?, attempts = ?, sent_at = ?, status_at = ?, last_error = NULL "
                            "WHERE id = ? AND status = 'to_send'",
                            (outcome.notify_id, outcome.status, attempts, now_iso(), now_iso(), m["id"]))
                counts["sent"] += 1
            elif outcome.retry and attempts < MAX_ATTEMPTS:
                txn.execute("UPDATE messages SET attempts = ?, last_error = ?, next_attempt_at = ? "
                            "WHERE id = ? AND status = 'to_send'",
                            (attempts, outcome.error, now + BACKOFF_S * 2 ** (attempts - 1), m["id"]))
                counts["retry_later"] += 1
            else:
                txn.execute("UPDATE messages SET status = 'failed', channel = 'notify', attempts = ?, "
                            "last_error = ?, status_at = ? WHERE id = ? AND status = 'to_send'",
                            (attempts, outcome.error, now_iso(), m["id"]))
                counts["failed"] += 1
            audit.record(txn, user_id, None, "message_sent" if outcome.sent else "message_not_sent", _ids(m),
                         {"message_id": m["id"], "attempt": attempts, "error": outcome.error})
    since = dt.datetime.fromtimestamp(now - STATUS_DAYS * 86400, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    pending = db.query("SELECT id, notify_id FROM messages WHERE status = 'sent' AND notify_id IS NOT NULL "
                       "AND sent_at >= ? ORDER BY sent_at LIMIT ?", (since, limit))
    for m in pending:
        outcome = notify.status(m["notify_id"])
        if not outcome.sent:
            continue  # Notify did not answer: ask again at the next run
        counts["status_checked"] += 1
        final = outcome.status in FINAL
        status = "sent" if not final else ("delivered" if outcome.status == "delivered" else "failed")
        with db.write() as txn:
            txn.execute("UPDATE messages SET notify_status = ?, status = ?, status_at = ? WHERE id = ?",
                        (outcome.status, status, now_iso(), m["id"]))
    return counts


def export_csv(db: Database, user_id: str, school_id: str | None = None) -> tuple[str, int]:
    """Every message waiting to be sent, as CSV for a school's texting system, marked exported
    in the same transaction (so a message is exported once)."""
    where = "m.status = 'to_send'" + (" AND p.school_id = ?" if school_id else "")
    with db.write() as txn:
        rows = txn.rows("SELECT m.id, m.pupil_id, m.case_id, m.household_id, m.phone, m.body, m.language, "
                        "p.upn FROM messages m LEFT JOIN pupils p ON p.id = m.pupil_id WHERE " + where +
                        " ORDER BY m.created_at", (school_id,) if school_id else ())
        at = now_iso()
        for m in rows:
            txn.execute("UPDATE messages SET status = 'exported', channel = 'csv', exported_at = ?, status_at = ? "
                        "WHERE id = ?", (at, at, m["id"]))
        if rows:
            audit.record(txn, user_id, None, "messages_exported",
                         [i for m in rows for i in _ids(m)], {"count": len(rows)},
                         indexed=[i for m in rows for i in _ids(m)])
    national = [("0" + m["phone"][3:]) if (m["phone"] or "").startswith("+44") else m["phone"] for m in rows]
    text = csv_text(["mobile", "message", "upn", "language", "doorstep_message_id"],
                    [[phone, m["body"], m["upn"], m["language"], m["id"]] for phone, m in zip(national, rows)])
    return text, len(rows)


def _job(ctx: jobs.JobContext) -> dict[str, Any]:
    config = NotifyConfig.from_env()
    if config is None:
        return {"skipped": "GOV.UK Notify is not configured: export the messages as CSV instead."}
    return send_due(ctx.db, config, ctx.args.get("user_id"))


jobs.register(JOB_KIND, _job)
