"""The escalation ladder's consistency rule (DOMAIN.md).

A case may only move to ``penalty_notice`` or beyond when its record shows the
earlier support was tried: a home visit or doorstep conversation, and an
attendance contract or notice to improve.
"""
from __future__ import annotations

from .errors import ChangeError
from .schema_codes import STAGES

ENFORCEMENT = frozenset(STAGES[STAGES.index("penalty_notice"):])
FORMAL_SUPPORT = frozenset({"attendance_contract", "notice_to_improve"})


def check_stage(new_stage: str, current_stage: str | None, stages_reached: list[str],
                contacts_on_record: int) -> ChangeError | None:
    """None when the move is allowed; else an error naming what is missing."""
    if new_stage not in ENFORCEMENT or new_stage == current_stage:
        return None
    missing = []
    if contacts_on_record == 0:
        missing.append("home visit or doorstep conversation")
    if not FORMAL_SUPPORT & set(stages_reached):
        missing.append("attendance contract or notice to improve")
    if not missing:
        return None
    return ChangeError("stage", "support_not_tried",
                       f"cannot move to {new_stage}: the record shows no " + " and no ".join(missing))
