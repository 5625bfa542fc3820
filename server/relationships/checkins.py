"""Safe lone working as the office sees it (docs/relationships.md, "Safe lone working"): the
check-ins phones have synced that are still open past their expected duration plus the grace
period (``DOORSTEP_CHECKIN_GRACE_MINUTES``), each with the officer, the address and the time it
started; an alert nobody acknowledged within ``DOORSTEP_CHECKIN_ESCALATE_MINUTES`` more escalates
to the named contact (``DOORSTEP_CHECKIN_ESCALATION_CONTACT``). Acknowledging one is recorded
(``check_in_acks``) and audited.

The office learns of a check-in only once the phone has synced it: a check-in made without
signal is not here until then. Times are compared with ``now``, given by the caller.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

from .. import audit
from ..office.people import Directory
from ..storage import SqliteTxn
from ..util import now_iso


@dataclass(frozen=True)
class Rules:
    grace_min: int = 15
    escalate_min: int = 15
    contact: str = ""  # "Name, phone"

    @classmethod
    def of(cls, settings: Any) -> Rules:
        return cls(settings.checkin_grace_min, settings.checkin_escalate_min, settings.checkin_escalation_contact)

    def contact_parts(self) -> tuple[str, str]:
        """(name, phone) of the escalation contact; ("", "") when none is set."""
        name, _, phone = self.contact.rpartition(",")
        return (name.strip(), phone.strip()) if name.strip() else (self.contact.strip(), "")


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def state(check_in: dict[str, Any], acked: bool, now: dt.datetime, rules: Rules) -> dict[str, Any] | None:
    """An open check-in's alert at ``now`` (``minutes_overdue`` past its expected end,
    ``escalated``), or None: closed, or not yet overdue past the grace period."""
    started = parse_time(check_in.get("started_at"))
    if check_in.get("closed_at") or started is None:
        return None
    due = started + dt.timedelta(minutes=int(check_in.get("expected_minutes") or 0))
    alert_at = due + dt.timedelta(minutes=rules.grace_min)
    if now < alert_at:
        return None
    escalate_at = alert_at + dt.timedelta(minutes=rules.escalate_min)
    return {"due_at": due, "alert_at": alert_at, "escalate_at": escalate_at,
            "minutes_overdue": int((now - due).total_seconds() // 60),
            "escalated": not acked and now >= escalate_at}


def overdue(txn: SqliteTxn, now: dt.datetime, rules: Rules) -> list[dict[str, Any]]:
    """Every overdue check-in, the longest overdue first, with who, where and whether acknowledged."""
    rows = txn.rows("SELECT c.id, c.data, a.acknowledged_at, a.acknowledged_by FROM check_ins c "
                    "LEFT JOIN check_in_acks a ON a.check_in_id = c.id "
                    "WHERE c.deleted = 0 AND json_extract(c.data, '$.closed_at') IS NULL")
    if not rows:
        return []
    directory = Directory(txn)
    out = []
    for r in rows:
        data = orjson.loads(r["data"])
        alert = state(data, r["acknowledged_at"] is not None, now, rules)
        if alert is None:
            continue
        household = _one(txn, "households", data.get("household_id"))
        out.append({**alert, "id": r["id"], "case_id": data.get("case_id"), "household_id": data.get("household_id"),
                    "officer_id": data.get("officer_id"), "officer": directory.name(data.get("officer_id")),
                    "address": (household or {}).get("address") or "address not known",
                    "started_at": data["started_at"], "expected_minutes": data.get("expected_minutes"),
                    "lat": data.get("lat"), "lon": data.get("lon"),
                    "acknowledged_at": r["acknowledged_at"],
                    "acknowledged_by": directory.name(r["acknowledged_by"]) if r["acknowledged_by"] else None})
    out.sort(key=lambda a: a["due_at"])
    return out


def _one(txn: SqliteTxn, table: str, id_: str | None) -> dict[str, Any] | None:
    if not id_:
        return None
    rows = txn.rows(f"SELECT data FROM {table} WHERE id = ? AND deleted = 0", (id_,))
    return orjson.loads(rows[0]["data"]) if rows else None


def acknowledge(txn: SqliteTxn, check_in_id: str, user_id: str, note: str = "") -> bool:
    """Record that ``user_id`` acknowledged the alert (once; False if it was already, or there is
    no such open check-in), audited with the check-in and its case."""
    rows = txn.rows("SELECT data FROM check_ins WHERE id = ? AND deleted = 0", (check_in_id,))
    if not rows:
        return False
    data = orjson.loads(rows[0]["data"])
    at = now_iso()
    cur = txn.execute("INSERT OR IGNORE INTO check_in_acks (check_in_id, acknowledged_at, acknowledged_by, note) "
                      "VALUES (?, ?, ?, ?)", (check_in_id, at, user_id, note))
    if not cur.rowcount:
        return False
    audit.record(txn, user_id, None, "check_in_acknowledged",
                 [i for i in (check_in_id, data.get("case_id"), data.get("household_id")) if i],
                 {"officer_id": data.get("officer_id"), "note": note}, at=at)
    return True
