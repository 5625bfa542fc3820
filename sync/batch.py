"""One push batch inside its write transaction: each change checked against what is stored,
merged, and its effects (records, change log, conflicts, scope events) written (PROTOCOL.md §3, §5).

``sync.push.apply`` drives it; nothing here takes a lock or opens a transaction.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from . import casework
from . import clock_mark
from . import relationships
from . import hlc as _hlc
from .errors import ChangeError, Rejection
from .hlc import utc_iso
from .ladder import check_stage
from .merge import ConflictDraft, MergeOutcome, merge_delete, merge_put
from .references import REFERENCES_OF, check_references
from .schema import (
    AUTHOR_FIELDS,
    DEFAULTS,
    DELETABLE,
    ENTITY_TYPES,
    IMMUTABLE_FIELDS,
    OFFICER_CREATABLE,
    OFFICER_WRITABLE,
    REGISTER_FIELDS,
    SUBMITTABLE,
    check_complete,
    missing_required,
    validate_fields,
)
from .scope import Scope, TypeFilter, everything, hangs_on, officer_scope, once_held
from .scope_watch import ScopeWatch, decides_scope
from .store import Txn
from .types import OFFICER, Actor, AppliedChange, Change, Conflict, Record, Result, ScopeEvent

MAX_SKEW_MS = 5 * 60 * 1000
Checked = tuple[dict[str, Any], list[ChangeError]]  # validate_fields' answer
# Records an officer may send even after their case (or run) left their scope.
FIELD_EVENTS = frozenset({"visit", "conversation", "note", "transport_stop", "support_plan", "wellbeing_plan"})
# Fields a new record must have, per type (``missing_required`` names what is missing).
REQUIRED = {t: tuple(name for name, spec in specs.items() if spec.required) for t, specs in ENTITY_TYPES.items()}


class Batch:
    """The changes of one push, applied in order inside the caller's write transaction."""

    def __init__(self, txn: Txn, actor: Actor, clock: _hlc.Clock, now: dt.datetime) -> None:
        self.txn, self.actor, self.clock = txn, actor, clock
        self.now_ms = int(now.timestamp() * 1000)
        self.skew_limit = f"{self.now_ms + MAX_SKEW_MS:015d}"
        self.latest = ""  # the latest "<ms>-<counter>" received in this batch, not yet on the clock
        self.now = utc_iso(now)
        self.seq = txn.max_seq()
        clock_mark.catch_up(txn, clock)  # stamps after every write committed before (sync/clock_mark.py)
        self.working: dict[tuple[str, str], Record | None] = {}
        self.dirty: dict[tuple[str, str], Record] = {}
        self.log: list[AppliedChange] = []
        self.conflicts: list[Conflict] = []
        self.events: list[ScopeEvent] = []
        self.seen: dict[str, AppliedChange] = {}
        self.applied: dict[str, AppliedChange] = {}  # change ids logged before this batch
        self.watch = ScopeWatch(txn)
        self.touched: list[tuple[str, str]] = []
        self._scope: Scope | None = None
        self._filters: dict[str, TypeFilter | None] = {}
        self._roles: dict[str, str | None] = {}

    # -- loading -------------------------------------------------------------
    def prefetch(self, changes: list[Change], checked: list[Checked | None] | None = None) -> None:
        """Read the batch's change ids, its records and the records its puts refer to
        (``checked``: each change's ``validate_fields`` answer) in one query a kind, not one
        per change.

        Inside the write transaction nothing else writes, so what is read here is what a
        per-change read would have found; later changes of the batch see earlier ones
        through ``seen`` and ``working``.
        """
        self.applied = self.txn.applied({c.change_id for c in changes})
        by_type: dict[str, set[str]] = {}
        for c in changes:
            by_type.setdefault(c.type, set()).add(c.id)
        for c, v in zip(changes, checked or ()):
            if v is not None and not v[1]:  # a put whose fields passed: what it refers to
                for f, target in REFERENCES_OF[c.type]:
                    ref = v[0].get(f)
                    if ref is not None:
                        by_type.setdefault(target, set()).add(ref)
        for type_, ids in by_type.items():
            found = self.txn.get(type_, ids)
            for id_ in ids:
                self.working[(type_, id_)] = found.get(id_)

    def load(self, type_: str, id_: str) -> Record | None:
        key = (type_, id_)
        if key not in self.working:
            self.working[key] = self.txn.get(type_, [id_]).get(id_)
        return self.working[key]

    def user_role(self, user_id: str) -> str | None:
        """``txn.user_role``, read once a batch for each user."""
        if user_id not in self._roles:
            self._roles[user_id] = self.txn.user_role(user_id)
        return self._roles[user_id]

    def flush(self) -> None:
        if self.dirty:
            self.txn.save(list(self.dirty.values()))
            self.dirty.clear()

    def scope(self) -> Scope:
        if self._scope is None:
            self.flush()
            self._scope = (everything(self.actor.user_id) if self.actor.is_office
                           else officer_scope(self.txn, self.actor.user_id))
        return self._scope

    def in_scope(self, type_: str, id_: str, fields: dict[str, Any]) -> bool:
        """``scope().contains(record)``, with each type's filter built once a batch."""
        if type_ not in self._filters:
            self._filters[type_] = self.scope().filter(type_)
        f = self._filters[type_]
        return f is None or f.admits(id_, fields)

    def receive(self) -> None:
        """Advance the clock past every stamp this batch received (one ``receive`` for the
        latest is the same as one for each: the clock keeps the maximum)."""
        if self.latest:
            self.clock.receive(_hlc.Stamp(int(self.latest[:15]), int(self.latest[16:22]), ""))
            self.latest = ""

    def send(self) -> str:
        """A stamp later than everything this batch received so far."""
        self.receive()
        return self.clock.send()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # -- one change ----------------------------------------------------------
    def apply(self, change: Change, checked: Checked | None) -> Result:
        """One change; ``checked`` is ``validate_fields`` of a put's fields (None for a delete)."""
        change_id = change.change_id
        self.touched.append((change.type, change.id))
        done = self.seen.get(change_id) or self.applied.get(change_id)
        if done is not None:
            return Result(change_id, "duplicate", done.version, [], list(done.lost_fields))
        skew = False
        # "<ms, 15 digits>-<counter, 6 digits>" orders as the stamps do (PROTOCOL.md §6)
        key = change.hlc[:22]
        if key[:15] > self.skew_limit:
            stamp = _hlc.parse(change.hlc)
            fresh = _hlc.parse(self.send())
            change.hlc = str(_hlc.Stamp(fresh.ms, fresh.counter, stamp.node))
            skew = True
        elif key > self.latest:
            self.latest = key
        try:
            if change.op == "delete":
                record, outcome = self._delete(change)
            else:
                record, outcome = self._put(change, checked)
        except Rejection as rej:
            return Result(change_id, "rejected", None, [e.as_dict() for e in rej.errors], [], skew)
        lost = outcome.lost
        status = "merged" if lost else "applied"
        self._record_effect(change, record, outcome, status)
        return Result(change_id, status, record.version, [], list(lost), skew)

    def _record_effect(self, change: Change, record: Record, outcome: MergeOutcome,
                       status: str) -> None:
        self.seq += 1
        seq = self.seq
        user = self.actor.user_id
        created = False
        if outcome.written:
            record.seq = seq
            record.updated_at = self.now
            record.updated_by = user
            if record.created_at is None:
                record.created_at, record.created_by = self.now, user
                record.created_seq = seq
                created = True
            self.dirty[(record.type, record.id)] = record
        row = AppliedChange(change.change_id, change.type, change.id, record.version, status,
                            user, self.actor.device_id, self.now, change.hlc,
                            outcome.written, list(outcome.lost), seq, created)
        self.log.append(row)
        self.seen[change.change_id] = row
        for draft in outcome.conflicts:
            self.conflicts.append(_conflict(change.type, change.id, draft, self.now))

    # -- put -----------------------------------------------------------------
    def _put(self, change: Change, checked: Checked | None) -> tuple[Record, MergeOutcome]:
        t = change.type
        fields, errors = checked if checked is not None else validate_fields(t, change.fields)
        if errors:
            raise Rejection(errors)
        record: Record | None = self.load(t, change.id)
        creating = record is None
        if creating and change.base_version is not None:
            raise Rejection([ChangeError(None, "not_found",
                                         f"no {t} {change.id} (base_version given for a record the server does not have)")])
        if record is not None and record.type != t:
            raise Rejection([ChangeError("type", "validation_failed", "type does not match the record")])
        self._check_writable(t, fields, record)
        author = AUTHOR_FIELDS.get(t)
        if author:  # the author comes from the token, never from the body
            fields.pop(author, None)
            if creating:
                fields[author] = self.actor.user_id
        if record is None:
            defaults = DEFAULTS.get(t)
            if defaults:
                fields = {**defaults, **fields}
            for name in REQUIRED[t]:
                if fields.get(name) is None:
                    raise Rejection(missing_required(t, fields))
            self._derive(t, fields, record)
            after = fields  # read, never changed, below
        else:
            self._check_immutable(record, fields)
            after = {**record.fields, **fields}
        check_references(self.load, self.user_role, t, fields)
        errs = casework.check(self.load, t, fields, after) + relationships.check(self.load, t, fields, after)
        if errs:
            raise Rejection(errs)
        flag_out_of_scope = self._check_scope(t, change.id, after, record)
        errs = check_complete(t, after)
        if errs:
            raise Rejection(errs)
        if t == "conversation" and fields.get("visit_id"):
            self._check_same_case(after)
        if t == "case" and "stage" in fields:
            self._check_ladder(change.id, fields["stage"], record)
        if decides_scope(t, fields):
            self.watch.note(t, fields, record, self.load, self.flush)
        if record is None:
            record = Record(t, change.id)
            self.working[(t, change.id)] = record
        target: Record = record
        outcome = merge_put(target, fields, change.hlc, change.base_version, self.actor.user_id)
        if t == "case" and "stage" in outcome.written:
            stages = target.flags.setdefault("stages", [])
            if outcome.written["stage"] not in stages:
                stages.append(outcome.written["stage"])
        if flag_out_of_scope:
            target.flags["out_of_scope"] = True
            target.flags.setdefault("out_of_scope_by", self.actor.user_id)
            if outcome.changed:
                self.events.append(ScopeEvent(self.actor.user_id, t, target.id, "removed"))
        return target, outcome

    def _check_writable(self, t: str, fields: dict[str, Any], record: Record | None) -> None:
        bad = sorted(REGISTER_FIELDS & set(fields)) if t == "pupil" else []
        if bad:
            raise Rejection([ChangeError(f, "forbidden", f"{f} comes from the attendance register")
                             for f in bad])
        if self.actor.role != OFFICER:
            return
        if t not in OFFICER_WRITABLE:
            raise Rejection([ChangeError(None, "forbidden", f"officers may not change {t} records")])
        if record is None and t not in OFFICER_CREATABLE:
            raise Rejection([ChangeError(None, "forbidden", f"officers may not create {t} records")])
        allowed = OFFICER_WRITABLE[t]
        if allowed is not None:
            bad = sorted(set(fields) - allowed)
            if bad:
                raise Rejection([ChangeError(f, "forbidden", f"officers may not change {t}.{f}")
                                 for f in bad])

    def _check_immutable(self, record: Record, fields: dict[str, Any]) -> None:
        if record.type in SUBMITTABLE and record.fields.get("status") == "submitted" and not record.deleted:
            raise Rejection([ChangeError(None, "immutable",
                                         f"this {record.type} was submitted; add a note to correct it")])
        for f in IMMUTABLE_FIELDS.get(record.type, ()):
            if f in fields and fields[f] != record.fields.get(f):
                raise Rejection([ChangeError(f, "immutable", f"{f} cannot change once set")])
            fields.pop(f, None)

    def _derive(self, t: str, fields: dict[str, Any], record: Record | None) -> None:
        """Fields a new record takes from what it refers to."""
        if record is not None:
            return
        if t == "visit" and not fields.get("household_id"):
            case = self.load("case", fields["case_id"])
            pupil = self.load("pupil", case.fields.get("pupil_id", "")) if case else None
            if pupil is not None and pupil.fields.get("household_id"):
                fields["household_id"] = pupil.fields["household_id"]
        casework.derive(self.load, t, fields)
        relationships.derive(self.load, t, fields)
        if t == "note":
            subject = self.load(fields["subject_type"], fields["subject_id"])
            if subject is None or subject.deleted:
                raise Rejection([ChangeError("subject_id", "not_found",
                                             f"no {fields['subject_type']} {fields['subject_id']}")])
            if fields["subject_type"] == "case":
                fields["case_id"] = subject.id
            else:
                fields["case_id"] = subject.fields.get("case_id")

    def _check_same_case(self, conversation: dict[str, Any]) -> None:
        """A conversation held on a visit is about that visit's case."""
        visit = self.load("visit", conversation["visit_id"])
        if visit is not None and visit.fields.get("case_id") != conversation.get("case_id"):
            raise Rejection([ChangeError("visit_id", "validation_failed",
                                         "the visit belongs to another case than this conversation")])

    def _check_scope(self, t: str, id_: str, after: dict[str, Any], record: Record | None) -> bool:
        """True when the record (``after`` the change) is accepted though out of scope (flag it)."""
        if self.actor.is_office:
            return False
        if self.in_scope(t, id_, after):
            return False
        if t in FIELD_EVENTS and (record is None or record.created_by == self.actor.user_id
                                  or t == "transport_stop"):
            if all(id_ and self._had(type_, id_) for type_, id_ in hangs_on(t, after)):
                return True
        raise Rejection([ChangeError(None, "forbidden", f"this {t} is not in your caseload")])

    def _had(self, type_: str, id_: str) -> bool:
        """The officer made this record, or a scope event shows it was once in their scope."""
        ref = self.load(type_, id_)
        return ref is not None and once_held(self.txn, self.actor.user_id, ref)

    def _check_ladder(self, case_id: str, stage: str, record: Record | None) -> None:
        self.flush()
        contacts = 0
        if record is not None:
            contacts = sum(1 for r in self.txn.find("visit", "case_id", [case_id]) if not r.deleted)
            contacts += sum(1 for r in self.txn.find("conversation", "case_id", [case_id]) if not r.deleted)
        reached = record.flags.get("stages", []) if record else []
        current = record.fields.get("stage") if record else None
        error = check_stage(stage, current, reached, contacts)
        if error is not None:
            raise Rejection([error])

    # -- delete --------------------------------------------------------------
    def _delete(self, change: Change) -> tuple[Record, MergeOutcome]:
        t = change.type
        record = self.load(t, change.id)
        if record is None:
            raise Rejection([ChangeError(None, "not_found", f"no {t} {change.id}")])
        if t not in DELETABLE or (DELETABLE[t] and record.fields.get("status") != DELETABLE[t]):
            raise Rejection([ChangeError(None, "not_deletable",
                                         f"a {t} cannot be deleted" + (" once submitted" if t in DELETABLE else
                                                                       "; cases close and records are corrected by notes"))])
        if self.actor.role == OFFICER:
            if t != "task" and record.created_by != self.actor.user_id:
                raise Rejection([ChangeError(None, "forbidden", f"only its author may delete a draft {t}")])
            if not self.in_scope(t, record.id, record.fields) and t == "task":
                raise Rejection([ChangeError(None, "forbidden", f"this {t} is not in your caseload")])
        return record, merge_delete(record, change.hlc, self.actor.user_id)

    def finish(self) -> str:
        """Write the batch's effects; its ``server_hlc``, later than every stamp it received or
        issued, kept as the clock's mark when the batch wrote anything."""
        self.flush()
        self.events += self.watch.events()
        for event in self.events:
            event.seq = self.next_seq()
        if self.events:
            self.txn.add_scope_events(self.events)
        if self.log:
            self.txn.log_changes(self.log)
        if self.conflicts:
            self.txn.add_conflicts(self.conflicts)
        self.txn.set_max_seq(self.seq)
        server_hlc = self.send()
        if self.log or self.events:  # the batch wrote: its stamps are committed (a batch of
            clock_mark.keep(self.txn, server_hlc)  # duplicates or rejections writes nothing)
        return server_hlc


def _conflict(type_: str, entity_id: str, draft: ConflictDraft, now: str) -> Conflict:
    return Conflict(id=str(uuid.uuid4()), type=type_, entity_id=entity_id, field=draft.field,
                    kept=draft.kept.as_dict(), lost=draft.lost.as_dict(), created_at=now)
