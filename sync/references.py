"""What a record's fields refer to, and the check that those records exist
(PROTOCOL.md §5: a change naming a record the server does not have is rejected ``not_found``).

Declared here once; ``sync.batch.Batch`` reads the referenced records of a whole batch in one
query a type (``REFERENCES_OF``) and checks each put with ``check_references``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ChangeError, Rejection
from .schema import ENTITY_TYPES
from .types import OFFICER, Record

# References that must resolve: (type, field) -> referenced type.
REFERENCES = {
    ("visit", "case_id"): "case", ("visit", "household_id"): "household",
    ("conversation", "case_id"): "case", ("conversation", "visit_id"): "visit",
    ("task", "case_id"): "case", ("case", "pupil_id"): "pupil",
    ("pupil", "school_id"): "school", ("pupil", "household_id"): "household",
    ("transport_run", "school_id"): "school", ("transport_stop", "run_id"): "transport_run",
    ("transport_stop", "pupil_id"): "pupil", ("transport_stop", "household_id"): "household",
    ("person", "household_id"): "household", ("support_plan", "case_id"): "case",
    ("support_plan", "supersedes"): "support_plan",
    ("wellbeing_plan", "case_id"): "case", ("wellbeing_plan", "supersedes"): "wellbeing_plan",
    ("check_in", "case_id"): "case", ("check_in", "household_id"): "household",
}
# References to users: (type, field) -> the role the user must have (None: any active user).
USER_REFERENCES = {("case", "assigned_officer_id"): OFFICER, ("task", "assigned_to"): None,
                   ("transport_run", "driver_id"): None}
REFERENCES_OF = {t: [(f, target) for (rt, f), target in REFERENCES.items() if rt == t] for t in ENTITY_TYPES}
USER_REFERENCES_OF = {t: [(f, role) for (rt, f), role in USER_REFERENCES.items() if rt == t] for t in ENTITY_TYPES}


def check_references(load: Callable[[str, str], Record | None], user_role: Callable[[str], str | None],
                     t: str, fields: dict[str, Any]) -> None:
    """Raise ``Rejection`` naming every field of ``fields`` that refers to a record or user the
    server does not have (or has deleted, or a user without the role the field needs)."""
    errors = []
    for f, target in REFERENCES_OF[t]:
        if fields.get(f) is not None:
            ref = load(target, fields[f])
            if ref is None or ref.deleted:
                errors.append(ChangeError(f, "not_found", f"no {target} {fields[f]}"))
    for f, role in USER_REFERENCES_OF[t]:
        if fields.get(f) is not None:
            found = user_role(fields[f])
            if found is None or (role is not None and found != role):
                errors.append(ChangeError(f, "not_found", f"no {role or 'user'} {fields[f]}"))
    if errors:
        raise Rejection(errors)
