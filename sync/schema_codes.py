"""The code lists a field of ``sync/schema.py`` may hold, declared once: ``ENUMS`` by name.

``sync/vocabulary.json`` has the words people see for every code (a test checks each has one);
the PWA reads the same lists from ``pwa/schema.js`` (``sync/schema_export.py``).
"""
from __future__ import annotations

OUTCOMES = ("seen_child_and_parent", "spoke_to_parent", "child_seen", "no_answer",
            "card_left", "refused", "moved_away", "unsafe_to_proceed")
BARRIERS = ("physical_health", "mental_health_anxiety", "send_unmet_need", "bullying",
            "young_carer", "parental_illness", "parenting_capacity", "housing", "financial",
            "transport", "domestic_abuse", "substance_misuse", "exploitation",
            "term_time_holiday", "other")
STAGES = ("support", "attendance_meeting", "attendance_contract", "notice_to_improve",
          "penalty_notice", "education_supervision_order", "prosecution")
AGENCIES = ("social_care", "early_help", "camhs", "school_nurse", "gp", "housing", "police",
            "young_carers", "send_team", "other")
BANDS = ("ok", "at_risk", "persistent", "severe")
SEND = ("none", "sen_support", "ehcp")
CONSENT = ("not_asked", "given", "refused")
CASE_STATUS = ("open", "closed")
RECORD_STATUS = ("draft", "submitted")
RUN_STATUS = ("planned", "in_progress", "done")
STOP_STATUS = ("pending", "picked_up", "no_show", "refused")
SUBJECT_TYPES = ("school", "household", "pupil", "case", "visit", "conversation",
                 "transport_run", "transport_stop", "task")
# beyond the protocol's ten types (docs/protocol.md §7.6, §7.7)
REVIEW_STATES = ("new", "reviewed", "needs_follow_up")
RECORD_TYPES = (*SUBJECT_TYPES, "note", "person", "support_plan",  # the protocol's ten, and §7.8, §7.9
                "wellbeing_plan", "check_in")  # §7.10, §7.11
# how a lone-working check-in was closed (docs/protocol.md §7.11, docs/relationships.md)
CHECK_IN_CLOSED_HOW = ("visit_submitted", "safe")
NOTICE_KINDS = ("lost_at_push", "replaced")
# parents and attendance support plans (docs/protocol.md §7.8, §7.9; docs/casework.md)
PLAN_OWNERS = ("family", "school", "officer", *AGENCIES)
PLAN_REVIEW_OUTCOMES = ("continue", "improved_ended", "escalated")

# Every code list a field may hold, by name (sync/vocabulary.json has a label for each code).
ENUMS: dict[str, tuple[str, ...]] = {
    "outcome": OUTCOMES, "barrier": BARRIERS, "stage": STAGES, "agency": AGENCIES, "band": BANDS,
    "send": SEND, "consent": CONSENT, "case_status": CASE_STATUS, "record_status": RECORD_STATUS,
    "run_status": RUN_STATUS, "stop_status": STOP_STATUS, "subject_type": SUBJECT_TYPES,
    "review_state": REVIEW_STATES, "record_type": RECORD_TYPES, "notice_kind": NOTICE_KINDS,
    "plan_owner": PLAN_OWNERS, "plan_review_outcome": PLAN_REVIEW_OUTCOMES,
    "check_in_closed_how": CHECK_IN_CLOSED_HOW,
}
