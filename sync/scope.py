"""Who may see what (PROTOCOL.md §4, Scope).

An officer sees every school, their open cases and everything linked to them
(pupil, household, visits, conversations, tasks, notes), and the transport
runs they drive with their stops, pupils and households — a run only until the
server moves ``RUNS_FROM`` past its date (``sync/runs_age.py``, docs/retention.md). Office and
admin see everything.

Beyond the protocol's types: a ``notice`` is seen by its recipient only (it
never leaves their scope), a ``review`` travels with its case like a visit
(docs/protocol.md §7.6, §7.7). A ``person`` (§7.8) is seen with its household, a
``support_plan`` (§7.9) with its case. A ``wellbeing_plan`` (§7.10) travels with its case; a
``check_in`` (§7.11) is seen by its officer only, like a notice.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .types import Record

TYPES = ("school", "household", "pupil", "case", "visit", "conversation", "transport_run",
         "transport_stop", "task", "note", "notice", "review", "person", "support_plan",
         "wellbeing_plan", "check_in")
CASE_LINKED = ("visit", "conversation", "task", "note", "review", "support_plan", "wellbeing_plan")
# the store's counter holding the first run date (a date ordinal) still on its driver's phone;
# 0: every run (sync/runs_age.py moves it, with the scope events that take older runs off phones)
RUNS_FROM = "runs_from"


class ScopeReader(Protocol):
    def links(self, type_: str, field_: str, values: Iterable[Any],
              columns: tuple[str, ...]) -> list[tuple[Any, ...]]: ...
    def counter(self, key: str) -> int: ...


@dataclass(frozen=True)
class TypeFilter:
    """Records of one type whose id is in ``ids`` or whose field is in a set."""

    ids: frozenset[str] = frozenset()
    links: tuple[tuple[str, frozenset[str]], ...] = ()

    def matches(self, record: Record) -> bool:
        return self.admits(record.id, record.fields)

    def admits(self, id_: str, fields: dict[str, Any]) -> bool:
        """``matches`` for a record given by its id and fields."""
        if id_ in self.ids:
            return True
        for f, values in self.links:
            if fields.get(f) in values:
                return True
        return False


@dataclass
class Scope:
    user_id: str
    everything: bool = False
    cases: set[str] = field(default_factory=set)
    pupils: set[str] = field(default_factory=set)
    households: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)

    def filter(self, type_: str) -> TypeFilter | None:
        """None means every record of the type; else a filter."""
        if self.everything or type_ == "school":
            return None
        cases = frozenset(self.cases)
        if type_ == "case":
            return TypeFilter(ids=cases)
        if type_ == "pupil":
            return TypeFilter(ids=frozenset(self.pupils))
        if type_ == "household":
            return TypeFilter(ids=frozenset(self.households))
        if type_ == "person":
            return TypeFilter(links=(("household_id", frozenset(self.households)),))
        if type_ == "transport_run":
            return TypeFilter(ids=frozenset(self.runs))
        if type_ == "transport_stop":
            return TypeFilter(links=(("run_id", frozenset(self.runs)),))
        if type_ == "notice":
            return TypeFilter(links=(("recipient_id", frozenset({self.user_id})),))
        if type_ == "check_in":
            return TypeFilter(links=(("officer_id", frozenset({self.user_id})),))
        if type_ == "note":
            subjects = frozenset(self.pupils | self.households | self.runs)
            return TypeFilter(links=(("case_id", cases), ("subject_id", subjects)))
        return TypeFilter(links=(("case_id", cases),))

    def contains(self, record: Record) -> bool:
        f = self.filter(record.type)
        return f is None or f.matches(record)


def everything(user_id: str) -> Scope:
    return Scope(user_id=user_id, everything=True)


def officer_scope(txn: ScopeReader, user_id: str) -> Scope:
    """Read through ``links``: ids and link values only, no record decoded (every push and pull
    page of an officer works out the scope, whose reads grow with the caseload)."""
    scope = Scope(user_id=user_id)
    for id_, deleted, pupil_id, status in txn.links("case", "assigned_officer_id", [user_id],
                                                    ("pupil_id", "status")):
        if deleted or status != "open":
            continue
        scope.cases.add(id_)
        if pupil_id:
            scope.pupils.add(pupil_id)
    first_day = runs_first_day(txn)
    scope.runs = {id_ for id_, deleted, date in txn.links("transport_run", "driver_id", [user_id], ("date",))
                  if not deleted and (first_day is None or str(date or "9999") >= first_day)}
    if scope.runs:
        for _id, deleted, pupil_id, household_id in txn.links("transport_stop", "run_id", scope.runs,
                                                              ("pupil_id", "household_id")):
            if deleted:
                continue
            if pupil_id:
                scope.pupils.add(pupil_id)
            if household_id:
                scope.households.add(household_id)
    for _id, _deleted, household_id in txn.links("pupil", "id", scope.pupils, ("household_id",)):
        if household_id:
            scope.households.add(household_id)
    return scope


def runs_first_day(txn: ScopeReader) -> str | None:
    """The first run date (``YYYY-MM-DD``) still on its driver's phone; None: every run."""
    ordinal = txn.counter(RUNS_FROM)
    return dt.date.fromordinal(ordinal).isoformat() if ordinal > 0 else None


def members(txn: ScopeReader, scope: Scope) -> set[tuple[str, str]]:
    """Every (type, id) an officer's scope holds, linked records included."""
    out: set[tuple[str, str]] = set()
    out |= {("case", i) for i in scope.cases}
    out |= {("pupil", i) for i in scope.pupils}
    out |= {("household", i) for i in scope.households}
    out |= {("transport_run", i) for i in scope.runs}

    def live(type_: str, field_: str, values: set[str]) -> set[tuple[str, str]]:
        return {(type_, i) for i, deleted in txn.links(type_, field_, values, ()) if not deleted}

    if scope.cases:
        for type_ in CASE_LINKED:
            out |= live(type_, "case_id", scope.cases)
    if scope.runs:
        out |= live("transport_stop", "run_id", scope.runs)
    if scope.households:
        out |= live("person", "household_id", scope.households)
    subjects = scope.pupils | scope.households | scope.runs
    if subjects:
        out |= live("note", "subject_id", subjects)
    return out


class EventReader(Protocol):
    def has_scope_event(self, user_id: str, type_: str, entity_id: str) -> bool: ...


def hangs_on(type_: str, fields: dict[str, Any]) -> list[tuple[Any, Any]]:
    """What field work refers to: its case (a stop: its run), and the visit or subject it is about.
    Sent after it left the officer's scope, it is kept only if they had every one (``once_held``)."""
    if type_ == "transport_stop":
        return [("transport_run", fields.get("run_id"))]
    links: list[tuple[Any, Any]] = [("case", fields.get("case_id"))]
    if type_ == "conversation" and fields.get("visit_id"):
        links.append(("visit", fields["visit_id"]))
    elif type_ == "note":
        links.append((fields.get("subject_type"), fields.get("subject_id")))
    return links


def once_held(txn: EventReader, user_id: str, record: Record) -> bool:
    """The user made ``record``, or a scope event shows it was once in their scope: what an officer
    may still name after it left their scope (field work sent late, a device's audit report)."""
    return record.created_by == user_id or txn.has_scope_event(user_id, record.type, record.id)
