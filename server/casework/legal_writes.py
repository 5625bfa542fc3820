"""The legal steps, written: each change is one transaction with its history row and audit row,
and a step that moves the case along the ladder moves it in the same transaction, through the
sync engine (so the ladder rule, sync/ladder.py, is the engine's and phones see the new stage)."""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

import sync
from sync import Actor, Clock, server_stamp
from sync.schema_codes import STAGES

from .. import audit
from ..errors import ApiError, forbidden, invalid, not_found
from ..identity.accounts import User
from ..office import writes as office_writes
from ..office.people import entity, pupil_name
from ..state import AppState
from ..storage import SqliteTxn
from ..util import now_iso, today
from . import legal, legal_rules
from .school_calendar import CalendarGap

GROUNDS = ("threshold", "holiday")
HOLIDAY_CODE = "G"
_clocks: dict[str, Clock] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Parent:
    name: str
    address: str
    person_id: str | None = None

    @property
    def key(self) -> str:
        return legal_rules.parent_key(self.person_id, self.name)


def _clock(user_id: str) -> Clock:
    with _lock:
        return _clocks.setdefault(user_id, Clock(f"office-legal-{user_id}"))


def may_issue(st: AppState, user: User) -> bool:
    """The issuing permission: the roles the authority lets approve, refuse and issue penalty notices."""
    return user.role in st.settings.legal.issuer_roles


def _need_issuer(st: AppState, user: User) -> None:
    if not may_issue(st, user):
        raise forbidden("only " + " or ".join(st.settings.legal.issuer_roles)
                        + " users may approve, refuse or issue a penalty notice")


def _event(txn: SqliteTxn, user: User, n: dict[str, Any], action: str, detail: dict[str, Any]) -> None:
    at = now_iso()
    txn.execute("INSERT INTO legal_events (notice_id, at, user_id, action, detail) VALUES (?, ?, ?, ?, ?)",
                (n["id"], at, user.id, action, orjson.dumps(detail).decode()))
    audit.record(txn, user.id, None, f"legal_{action}", [n["pupil_id"], n["case_id"], n["id"]],
                 {"kind": n["kind"], **detail}, at=at)


def _save(txn: SqliteTxn, n: dict[str, Any], status: str, due_on: str | None, data: dict[str, Any]) -> None:
    txn.execute("UPDATE legal_notices SET status = ?, due_on = ?, data = ?, updated_at = ? WHERE id = ?",
                (status, due_on, orjson.dumps(data).decode(), now_iso(), n["id"]))


def _load(txn: SqliteTxn, notice_id: str, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = txn.rows("SELECT * FROM legal_notices WHERE id = ? AND kind = ?", (notice_id, kind))
    if not rows:
        raise not_found(f"no {legal.KIND_WORDS[kind]} {notice_id}")
    return rows[0], orjson.loads(rows[0]["data"])


def _case(txn: SqliteTxn, case_id: str) -> dict[str, Any]:
    case = entity(txn, "cases", case_id)
    if case is None:
        raise not_found(f"no case {case_id}")
    return case


def resolve_parent(txn: SqliteTxn, person_id: str, name: str, address: str) -> Parent:
    """The parent from a person record (its name and address fill blanks) or as written."""
    if person_id:
        person = legal.person(txn, person_id.lower())
        if person is None:
            raise invalid("no such person", field="person_id")
        if not address:
            household = entity(txn, "households", person.get("household_id")) or {}
            address = person.get("address") or household.get("address") or ""
        name = name or person.get("name", "")
    if not name or not address:
        raise invalid("give the parent's name and address (each parent has their own notice)",
                      field="parent_name" if not name else "parent_address")
    return Parent(name[:200], address[:500], person_id.lower() if person_id else None)


def _move_stage(txn: SqliteTxn, st: AppState, user: User, case: dict[str, Any], stage: str) -> bool:
    """Move the case up to ``stage`` through the engine (no move when it is there or beyond);
    ApiError with the ladder's words when the rule refuses."""
    if STAGES.index(case.get("stage") or "support") >= STAGES.index(stage):
        return False
    clock = _clock(user.id)
    clock.receive(server_stamp(txn, st.clock))  # later than every committed write (sync/clock_mark.py)
    change = {"change_id": str(uuid.uuid4()), "type": "case", "id": case["id"], "op": "put",
              "fields": {"stage": stage}, "base_version": case["_version"], "hlc": clock.send()}
    outcome = sync.apply(txn, sync.prepare(Actor(user.id, user.role, None), [change]), st.clock)
    result = outcome.results[0]
    if result.status == "rejected":
        raise invalid(" ".join(office_writes.error_words(result)), field="stage", ladder=True)
    audit.record(txn, user.id, None, "push", [i for _, i in outcome.touched], {"changes": 1, "via": "legal steps"})
    clock.receive(outcome.server_hlc)
    return True


def _insert(txn: SqliteTxn, user: User, kind: str, case: dict[str, Any], parent: Parent, status: str,
            due_on: str | None, data: dict[str, Any]) -> dict[str, Any]:
    at = now_iso()
    n = {"id": str(uuid.uuid4()), "kind": kind, "case_id": case["id"], "pupil_id": case["pupil_id"],
         "person_id": parent.person_id, "parent_key": parent.key, "status": status, "due_on": due_on}
    data = {"parent_name": parent.name, "parent_address": parent.address, **data}
    txn.execute("INSERT INTO legal_notices (id, kind, case_id, pupil_id, person_id, parent_key, status, due_on, "
                "data, created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (n["id"], kind, case["id"], case["pupil_id"], parent.person_id, parent.key, status, due_on,
                 orjson.dumps(data).decode(), at, user.id, at))
    return n


# -- Notice to Improve ---------------------------------------------------------------

def issue_nti(st: AppState, user: User, case_id: str, parents: list[Parent], issued_on: dt.date) -> list[str]:
    """One Notice to Improve to each parent; the improvement period ends the authority's number of
    school weeks later, by the pupil's school's calendar. Moves the case to notice_to_improve."""
    if not parents:
        raise invalid("name at least one parent", field="parent_name")
    weeks = st.settings.legal.nti_weeks
    with st.db.write() as txn:
        case = _case(txn, case_id)
        pupil = entity(txn, "pupils", case["pupil_id"]) or {}
        try:
            ends_on = legal.calendar_for(txn, pupil.get("school_id")).end_after_school_weeks(issued_on, weeks)
        except CalendarGap as exc:
            raise invalid(str(exc), field="issued_on", calendar=True) from None
        record, support = legal.attendance_record(txn, case["pupil_id"]), legal.support_offered(txn, case_id)
        if not support:
            raise invalid("the case shows no support yet (a visit, conversation or support plan): support comes "
                          "before a Notice to Improve", field="case_id")
        ids = []
        for parent in parents:
            n = _insert(txn, user, legal.NTI, case, parent, "issued", ends_on.isoformat(),
                        {"issued_on": issued_on.isoformat(), "weeks": weeks, "ends_on": ends_on.isoformat(),
                         "attendance": record, "support": support, "pupil_name": pupil_name(pupil)})
            _event(txn, user, n, "issued", {"parent": parent.name, "ends_on": ends_on.isoformat()})
            ids.append(n["id"])
        _move_stage(txn, st, user, case, legal.NTI)
    return ids


def nti_outcome(st: AppState, user: User, notice_id: str, outcome: str, note: str) -> None:
    if outcome not in ("improved", "not_improved"):
        raise invalid("the outcome is improved or not_improved", field="outcome")
    with st.db.write() as txn:
        n, data = _load(txn, notice_id, legal.NTI)
        if n["status"] != "issued":
            raise ApiError(409, "already_recorded", "this notice's outcome is recorded already")
        _save(txn, n, outcome, None, {**data, "outcome": outcome, "outcome_note": note,
                                      "outcome_on": today().isoformat()})
        _event(txn, user, n, outcome, {"note": note})


# -- penalty notices -----------------------------------------------------------------

def _check_evidence(txn: SqliteTxn, st: AppState, case: dict[str, Any], parent: Parent, ground: str,
                    chosen: list[tuple[int, int]]) -> list[dict[str, Any]]:
    cfg = st.settings.legal
    marks = {(s["day"], s["session"]): s for s in legal.unauthorised_sessions(txn, case["pupil_id"])}
    unknown = [c for c in chosen if c not in marks]
    if not chosen or unknown:
        raise invalid("choose the unauthorised sessions on the register that evidence the notice", field="sessions")
    if len(chosen) < cfg.threshold_sessions:
        raise invalid(f"the threshold is {cfg.threshold_sessions} unauthorised sessions: {len(chosen)} chosen",
                      field="sessions")
    pupil = entity(txn, "pupils", case["pupil_id"]) or {}
    if not legal.evidence_window_ok(legal.calendar_for(txn, pupil.get("school_id")), chosen, cfg.threshold_weeks):
        raise invalid(f"the sessions must fall within {cfg.threshold_weeks} school weeks", field="sessions")
    if ground == "holiday" and any(marks[c]["code"] != HOLIDAY_CODE for c in chosen):
        raise invalid("a term-time holiday notice rests on holiday sessions (code G) only", field="sessions")
    used = legal_rules.already_used(chosen, legal.used_sessions(txn, case["pupil_id"], parent.key))
    if used:
        raise ApiError(409, "sessions_used", f"{len(used)} of these sessions already evidence another notice to "
                       f"{parent.name} for this child", {"sessions": [marks[u]["date"] + " " + marks[u]["session_name"]
                                                                      for u in used]})
    return [marks[c] for c in sorted(chosen)]


def _refuse_for_cap(txn: SqliteTxn, user: User, n: dict[str, Any], data: dict[str, Any]) -> None:
    reason = legal_rules.cap_words()
    _save(txn, n, "refused", None, {**data, "refusal_reason": reason, "other_tools": list(legal_rules.OTHER_TOOLS)})
    txn.execute("UPDATE penalty_sessions SET active = 0 WHERE notice_id = ?", (n["id"],))
    _event(txn, user, n, "refused", {"reason": reason, "automatic": True})


def request_pn(st: AppState, user: User, case_id: str, parent: Parent, ground: str, requested_by: str,
               chosen: list[tuple[int, int]], note: str, on: dt.date) -> tuple[str, str]:
    """A school's (or officer's) request for a penalty notice to one parent: (id, status). A third
    notice in 3 years is recorded as refused, with the reason and the other tools."""
    if ground not in GROUNDS:
        raise invalid("the ground is threshold or holiday", field="ground")
    with st.db.write() as txn:
        case = _case(txn, case_id)
        sessions = _check_evidence(txn, st, case, parent, ground, chosen)
        nti = legal.nti_for(txn, case_id, parent.key)
        n = _insert(txn, user, legal.PN, case, parent, "requested", on.isoformat(),
                    {"ground": ground, "requested_by": requested_by, "requested_on": on.isoformat(), "note": note,
                     "nti_id": nti["id"] if nti else None})
        txn.executemany("INSERT INTO penalty_sessions (notice_id, pupil_id, parent_key, day, session, code) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             [(n["id"], case["pupil_id"], parent.key, s["day"], s["session"], s["code"])
                              for s in sessions])
        _event(txn, user, n, "requested", {"by": requested_by, "ground": ground, "sessions": len(sessions)})
        if legal.cap_state(txn, case["pupil_id"], parent.key, on)[0]:
            _refuse_for_cap(txn, user, n, orjson.loads(txn.rows("SELECT data FROM legal_notices WHERE id = ?",
                                                                (n["id"],))[0]["data"]))
            return n["id"], "refused"
    return n["id"], "requested"


def review_pn(st: AppState, user: User, notice_id: str, decision: str, reason: str) -> None:
    _need_issuer(st, user)
    if decision not in ("approved", "refused"):
        raise invalid("the decision is approved or refused", field="decision")
    if decision == "refused" and not reason:
        raise invalid("say why the request is refused", field="reason")
    with st.db.write() as txn:
        n, data = _load(txn, notice_id, legal.PN)
        if n["status"] != "requested":
            raise ApiError(409, "not_requested", "only a requested notice is reviewed")
        _save(txn, n, decision, today().isoformat() if decision == "approved" else None,
              {**data, "review_reason": reason, "reviewed_by": user.id})
        if decision == "refused":
            txn.execute("UPDATE penalty_sessions SET active = 0 WHERE notice_id = ?", (n["id"],))
        _event(txn, user, n, decision, {"reason": reason})


def issue_pn(st: AppState, user: User, notice_id: str, issued_on: dt.date, method: str) -> str:
    """Issue an approved notice (served on ``issued_on`` by post or hand): its amounts and dates.
    Returns the status: issued, or refused when the parent has had 2 in the 3 years before."""
    _need_issuer(st, user)
    if method not in legal_rules.SERVICE_METHODS:
        raise invalid("served by post or by hand", field="method")
    cfg = st.settings.legal
    with st.db.write() as txn:
        n, data = _load(txn, notice_id, legal.PN)
        if n["status"] != "approved":
            raise ApiError(409, "not_approved", "a notice is issued once it is approved")
        case = _case(txn, n["case_id"])
        capped, earlier = legal.cap_state(txn, n["pupil_id"], n["parent_key"], issued_on, n["id"])
        if capped:
            _refuse_for_cap(txn, user, n, data)
            return "refused"
        holiday = data.get("ground") == "holiday" and cfg.holiday_without_nti
        try:
            moved = _move_stage(txn, st, user, case, legal.PN)
        except ApiError:
            if not holiday:
                raise
            moved = False  # a holiday notice without a Notice to Improve: the case keeps its stage
        t = legal_rules.terms(issued_on, method, cfg.deemed_service_days, earlier)
        _save(txn, n, "issued", t.pay_by.isoformat(),
              {**data, "issued_on": issued_on.isoformat(), "method": method, "number": earlier + 1,
               "stage_moved": moved, **t.as_dict()})
        _event(txn, user, n, "issued", {"method": method, **t.as_dict()})
    return "issued"


def record_pn(st: AppState, user: User, notice_id: str, what: str, on: dt.date, amount: int | None,
              reason: str) -> None:
    """Proof of service, a payment, a withdrawal or non-payment (prosecution is then considered)."""
    with st.db.write() as txn:
        n, data = _load(txn, notice_id, legal.PN)
        if n["status"] != "issued":
            raise ApiError(409, "not_issued", "this is recorded on an issued notice that is not yet settled")
        status, due_on, extra = "issued", n["due_on"], {}
        if what == "service":
            if not reason:
                raise invalid("describe the proof of service (e.g. certificate of posting)", field="reason")
            extra = {"service_proof": reason, "service_recorded_on": on.isoformat()}
        elif what == "payment":
            terms = legal_rules.Terms(dt.date.fromisoformat(data["received_on"]), data["second"], data["first_amount"],
                                      dt.date.fromisoformat(data["pay_first_by"]) if data["pay_first_by"] else None,
                                      data["full_amount"], dt.date.fromisoformat(data["pay_by"]))
            expected = terms.amount_due(on)
            if expected is None:
                raise invalid(f"a payment after {data['pay_by']} is too late: record non-payment", field="on")
            if amount != expected:
                raise invalid(f"a payment on {on.isoformat()} is £{expected}", field="amount", expected=expected)
            status, due_on, extra = "paid", None, {"paid_on": on.isoformat(), "amount_paid": amount}
        elif what == "withdrawal":
            if not reason:
                raise invalid("say why the notice is withdrawn", field="reason")
            status, due_on, extra = "withdrawn", None, {"withdrawn_on": on.isoformat(), "withdrawn_reason": reason}
            txn.execute("UPDATE penalty_sessions SET active = 0 WHERE notice_id = ?", (n["id"],))  # free again
        elif what == "non_payment":
            if on <= dt.date.fromisoformat(data["pay_by"]):
                raise invalid(f"the parent may pay until {data['pay_by']}", field="on")
            status, due_on, extra = "unpaid", None, {"unpaid_on": on.isoformat(), "next": "consider prosecution"}
        else:
            raise invalid("record service, payment, withdrawal or non_payment", field="what")
        _save(txn, n, status, due_on, {**data, **extra})
        _event(txn, user, n, what, extra)
