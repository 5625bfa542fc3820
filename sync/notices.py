"""Records the server writes for an officer to read (docs/protocol.md §7.6, §7.7).

* ``notice``: a value an officer wrote was set aside in a conflict — at their own push (their
  change lost: ``lost_at_push``) or afterwards, when a concurrent change made without seeing
  theirs replaced it (``replaced``). One notice per conflict whose set-aside side an officer
  wrote, for that officer: both values as text, who wrote the other and on which device, when.
* ``review``: the office's review of a visit or conversation (state, comment, who, when), one
  record per reviewed record, travelling with its case. A review that asks for follow-up is
  answered by the officer's next note on the reviewed record, or submitted conversation on the
  reviewed visit or visit or conversation naming it in ``follow_up_of`` (a draft answers nothing
  yet), as ``sync/rules.py`` declares it (``FOLLOW_UP_ANSWERS``, which the phone reads too): the
  server then fills ``answered_*``.

Both are written inside the caller's write transaction (the push's for notices and answers, the
office review's for reviews), as new versions in the change log like any other write.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from .hlc import utc_iso
from .rules import FOLLOW_UP_ANSWERS
from .schema import FIELDS, SERVER_WRITTEN
from .store import Txn
from .types import OFFICER, SYSTEM_USER, Actor, AppliedChange, Conflict, FieldMeta, Record

NAMESPACE = uuid.UUID("9b0f8a52-3c4e-4d0e-9a57-6f1d2c7e5b10")
MAX_TEXT = 20_000
# per type: the rules by which its records answer a review asking for follow-up, each as
# (link field, ((field, value), ...) the record must have, the reviewed type it is limited to)
_Answer = tuple[str, tuple[tuple[str, Any], ...], "str | None"]
_ANSWERS_OF: dict[str, tuple[_Answer, ...]] = {
    t: tuple((a["field"], tuple(a["when"].items()), a.get("of")) for a in FOLLOW_UP_ANSWERS if a["type"] == t)
    for t in {a["type"] for a in FOLLOW_UP_ANSWERS}}


def notice_id(recipient: str, conflict: Conflict) -> str:
    """The same conflict always makes the same notice id (a re-sent push makes no second one)."""
    key = f"notice:{recipient}:{conflict.type}:{conflict.entity_id}:{conflict.field}:{conflict.lost.get('hlc')}"
    return str(uuid.uuid5(NAMESPACE, key))


def review_id(subject_id: str) -> str:
    """One review record per reviewed visit or conversation."""
    return str(uuid.uuid5(NAMESPACE, f"review:{subject_id}"))


# -- after a push -----------------------------------------------------------------

def after_push(txn: Txn, actor: Actor, conflicts: list[Conflict], log: list[AppliedChange],
               stamp: str, now_iso: str) -> list[Record]:
    """The notices a push's conflicts call for, and the reviews its changes answer; written
    inside the push's transaction with ``stamp`` (the push answer's ``server_hlc``)."""
    writes: list[tuple[Record, dict[str, Any], str]] = []
    if conflicts:
        writes += _notices(txn, conflicts, log)
    if actor.role == OFFICER and log:
        writes += _answers(txn, log, now_iso)
    return _commit(txn, writes, stamp, now_iso, SYSTEM_USER)


def _notices(txn: Txn, conflicts: list[Conflict], log: list[AppliedChange]) -> list[tuple[Record, dict[str, Any], str]]:
    conflicts = [c for c in conflicts if c.type not in SERVER_WRITTEN]  # no notice about a notice
    losers = {by for c in conflicts if (by := c.lost.get("by")) is not None}
    officers = {u for u in losers if txn.user_role(u) == OFFICER}
    mine = [c for c in conflicts if c.lost.get("by") in officers]
    if not mine:
        return []
    ids = {notice_id(c.lost["by"], c): c for c in mine}
    existing = txn.get("notice", ids)
    users = {by for c in mine if (by := c.kept.get("by")) is not None}
    nodes = {node for c in mine for side in (c.kept, c.lost) if (node := node_of(side.get("hlc"))) is not None}
    names, devices = txn.people(users, nodes)
    pushed: dict[tuple[str, str, Any], str] = {(row.type, row.entity_id, row.hlc): row.change_id for row in log}
    out = []
    for id_, c in ids.items():
        if id_ in existing:
            continue
        at_push = pushed.get((c.type, c.entity_id, c.lost.get("hlc")))
        fields = {
            "recipient_id": c.lost["by"],
            "kind": "lost_at_push" if at_push else "replaced",
            "record_type": c.type,
            "record_id": c.entity_id,
            "case_id": _case_of(txn, c.type, c.entity_id),
            "about": _about(txn, c.type, c.entity_id),
            "field": c.field,
            "your_text": as_text(c.type, c.field, c.lost.get("value")),
            "your_at": _wall(c.lost.get("hlc")),
            "your_device": _device(node_of(c.lost.get("hlc")), devices),
            "their_text": as_text(c.type, c.field, c.kept.get("value")),
            "replaced_at": _wall(c.kept.get("hlc")),
            "replaced_by": c.kept.get("by"),
            "replaced_by_name": names.get(c.kept.get("by") or "") or _system_name(c.kept.get("by")),
            "replaced_on": _device(node_of(c.kept.get("hlc")), devices),
            "change_id": at_push if at_push and _is_uuid(at_push) else None,
        }
        out.append((Record("notice", id_), fields, f"notice:{id_}"))
    return out


def _made(when: tuple[tuple[str, Any], ...], fields: dict[str, Any]) -> bool:
    for k, v in when:
        if fields.get(k) != v:
            return False
    return True


def _answers(txn: Txn, log: list[AppliedChange], now_iso: str) -> list[tuple[Record, dict[str, Any], str]]:
    """The open reviews asking for follow-up that this push's changes answer (``FOLLOW_UP_ANSWERS``)."""
    # a rule with a "when" (a visit or conversation once submitted) answers by the change that
    # makes it so, with the links the whole record has then, whichever change set them; one
    # without (a note) by the change that sets its link
    whole: dict[str, list[str]] = {}
    for row in log:
        rules = _ANSWERS_OF.get(row.type)
        if rules and row.fields:
            for _field, when, _of in rules:
                if when and _made(when, row.fields):
                    whole.setdefault(row.type, []).append(row.entity_id)
                    break
    records = {(t, r.id): r.fields for t, ids in whole.items() for r in txn.get(t, ids).values()} if whole else {}
    found: dict[str, list[tuple[str, str, str | None]]] = {}  # review id -> (type, id, "of"), in push order
    for row in log:
        rules = _ANSWERS_OF.get(row.type)
        if not rules or not row.fields:
            continue
        for field, when, of in rules:
            if not _made(when, row.fields):
                continue
            f = records.get((row.type, row.entity_id)) if when else row.fields
            subject = f.get(field) if f is not None else None
            if isinstance(subject, str):
                found.setdefault(review_id(subject), []).append((row.type, row.entity_id, of))
    if not found:
        return []
    out = []
    for id_, record in txn.get("review", found).items():
        f = record.fields
        if record.deleted or f.get("state") != "needs_follow_up" or f.get("answered_id"):
            continue
        first = next(((t, a) for t, a, of in found[id_] if of in (None, f.get("subject_type"))), None)
        if first is None:
            continue
        type_, answer = first
        out.append((record, {"answered_type": type_, "answered_id": answer, "answered_at": now_iso},
                    f"review:{id_}:answered:{answer}"))
    return out


# -- the office's review -------------------------------------------------------------

def put_review(txn: Txn, actor: Actor, subject_type: str, subject_id: str, *, state: str, comment: str,
               case_id: str | None, officer_id: str | None, reviewer_name: str | None, stamp: str,
               now_iso: str) -> Record:
    """Create or update the review record of one visit or conversation (the office review
    action, inside its write transaction). Asking for follow-up again asks afresh: the earlier
    answer is cleared."""
    id_ = review_id(subject_id)
    record = txn.get("review", [id_]).get(id_) or Record("review", id_)
    fields: dict[str, Any] = {
        "subject_type": subject_type, "subject_id": subject_id, "case_id": case_id, "officer_id": officer_id,
        "state": state, "comment": comment or None, "reviewed_by": actor.user_id,
        "reviewed_by_name": reviewer_name, "reviewed_at": now_iso,
    }
    if state == "needs_follow_up" and record.fields.get("answered_id"):
        fields.update(answered_type=None, answered_id=None, answered_at=None)
    return _commit(txn, [(record, fields, f"review:{id_}:{uuid.uuid4()}")], stamp, now_iso, actor.user_id,
                   actor.device_id)[0]


# -- writing -------------------------------------------------------------------------

def _commit(txn: Txn, writes: list[tuple[Record, dict[str, Any], str]], stamp: str, now_iso: str,
            by: str, device_id: str | None = None) -> list[Record]:
    """Each record gets a new version with ``fields`` (stamped ``stamp``), its own position in
    the change stream, and a change-log row."""
    if not writes:
        return []
    seq = txn.max_seq()
    rows = []
    for record, fields, change_id in writes:
        seq += 1
        record.version += 1
        meta = FieldMeta(stamp, record.version, by)
        for name, value in fields.items():
            record.fields[name] = value
            record.meta[name] = meta
        record.seq = seq
        record.updated_at, record.updated_by = now_iso, by
        if record.created_at is None:
            record.created_at, record.created_by = now_iso, by
        rows.append(AppliedChange(change_id, record.type, record.id, record.version, "applied", by, device_id,
                                  now_iso, stamp, dict(fields), [], seq))
    txn.save([r for r, _, _ in writes])
    txn.log_changes(rows)
    txn.set_max_seq(seq)
    return [r for r, _, _ in writes]


# -- words ---------------------------------------------------------------------------

def node_of(stamp: Any) -> str | None:
    """The node id of an HLC stamp (the device id, ``server``, ``office-…``), or None."""
    if not isinstance(stamp, str) or stamp.count("-") < 2:
        return None
    return stamp.split("-", 2)[2]


def _wall(stamp: Any) -> str | None:
    """The wall-clock part of an HLC stamp, as a UTC time to the millisecond."""
    if not isinstance(stamp, str) or not stamp[:15].isdigit():
        return None
    return utc_iso(dt.datetime.fromtimestamp(int(stamp[:15]) / 1000, dt.timezone.utc))


def device_name(stamp: Any, devices: dict[str, str]) -> str | None:
    """The name of the device an HLC stamp came from (its node id): a known device's name, the
    server, the office pages; None when unknown."""
    return _device(node_of(stamp), devices)


def _device(node: str | None, devices: dict[str, str]) -> str | None:
    if node is None:
        return None
    if node in devices:
        return devices[node]
    if node == "server":
        return "the server"
    if node.startswith("office-"):
        return "the office pages"
    return None


def _system_name(user_id: str | None) -> str | None:
    return "the system" if user_id == SYSTEM_USER else None


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _vocabulary() -> dict[str, Any]:
    from .schema_export import vocabulary  # here: ``python -m sync.schema_export`` imports this package

    return vocabulary()


def _labels(enum: str) -> dict[str, str]:
    return {code: e["label"] for code, e in _vocabulary()["enums"].get(enum, {}).items()}


def _field_label(name: str) -> str:
    return _vocabulary()["fields"].get(name, {}).get("label", name.replace("_", " ").capitalize())


def as_text(type_: str, field: str | None, value: Any) -> str | None:
    """A field's value as people read it (codes as their labels), for a notice."""
    if value is None:
        return None
    if field is None and isinstance(value, dict):  # a whole-record conflict (a delete)
        lines = ["Deleted" if value.get("_deleted") else "Kept (not deleted)"]
        for name, v in value.items():
            if name != "_deleted" and v not in (None, "", []):
                lines.append(f"{_field_label(name)}: {as_text(type_, name, v)}")
        text = "\n".join(lines)
    else:
        text = _render(FIELDS.get(type_, {}).get(field or ""), value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _render(spec: dict[str, Any] | None, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        if spec is not None and spec.get("kind") == "enum":
            return _labels(spec["enum"]).get(value, value)
        return value
    if isinstance(value, list):
        item = spec.get("items") if spec else None
        parts = [_render(item, v) for v in value]
        return ("\n" if any(isinstance(v, dict) for v in value) else ", ").join(parts)
    if isinstance(value, dict):
        subs = spec.get("fields", {}) if spec else {}
        return ", ".join(f"{_field_label(k)}: {_render(subs.get(k), v)}" for k, v in value.items()
                         if v not in (None, ""))
    return str(value)


def _about(txn: Txn, type_: str, id_: str) -> str | None:
    """A few words naming the record (the household's address, the pupil's name)."""
    record = txn.get(type_, [id_]).get(id_)
    if record is None:
        return None
    f = record.fields
    if type_ == "household":
        return (f.get("address") or None) and str(f["address"])[:500]
    if type_ == "school":
        return f.get("name")
    if type_ == "transport_run":
        return " ".join(str(x) for x in ("Run on", f.get("date"), f.get("vehicle") or "") if x).strip()
    pupil_id = f.get("pupil_id") if type_ in ("case", "transport_stop") else None
    if type_ == "pupil":
        return _name(f)
    if pupil_id is None:
        case_id = _case_of(txn, type_, id_, record)
        case = txn.get("case", [case_id]).get(case_id) if case_id else None
        pupil_id = case.fields.get("pupil_id") if case else None
    pupil = txn.get("pupil", [pupil_id]).get(pupil_id) if pupil_id else None
    return _name(pupil.fields) if pupil else None


def _name(f: dict[str, Any]) -> str | None:
    name = " ".join(str(f[k]) for k in ("first_name", "last_name") if f.get(k))
    return name[:500] or None


def _case_of(txn: Txn, type_: str, id_: str, record: Record | None = None) -> str | None:
    if type_ == "case":
        return id_
    if type_ not in ("visit", "conversation", "task", "note"):
        return None
    if record is None:
        record = txn.get(type_, [id_]).get(id_)
    value = record.fields.get("case_id") if record else None
    return value if isinstance(value, str) else None

