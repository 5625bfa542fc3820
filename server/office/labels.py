"""Words for the codes the records hold: what the office pages show instead of identifiers."""
from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from sync.schema import STAGES

UK = zoneinfo.ZoneInfo("Europe/London")

OUTCOMES = {
    "seen_child_and_parent": "Saw the child and a parent",
    "spoke_to_parent": "Spoke to a parent",
    "child_seen": "Saw the child",
    "no_answer": "No answer",
    "card_left": "Card left",
    "refused": "Refused",
    "moved_away": "Moved away",
    "unsafe_to_proceed": "Unsafe to proceed",
}
STAGE_LABELS = {
    "support": "Support",
    "attendance_meeting": "Attendance meeting",
    "attendance_contract": "Attendance contract",
    "notice_to_improve": "Notice to improve",
    "penalty_notice": "Penalty notice",
    "education_supervision_order": "Education supervision order",
    "prosecution": "Prosecution",
}
assert tuple(STAGE_LABELS) == STAGES
BANDS = {"ok": "OK", "at_risk": "At risk", "persistent": "Persistent", "severe": "Severe"}
REVIEW_STATES = {"new": "New", "reviewed": "Reviewed", "needs_follow_up": "Needs follow-up"}
BARRIERS = {
    "physical_health": "physical health", "mental_health_anxiety": "mental health or anxiety",
    "send_unmet_need": "unmet SEND need", "bullying": "bullying", "young_carer": "young carer",
    "parental_illness": "parental illness", "parenting_capacity": "parenting capacity",
    "housing": "housing", "financial": "financial", "transport": "transport",
    "domestic_abuse": "domestic abuse", "substance_misuse": "substance misuse",
    "exploitation": "exploitation", "term_time_holiday": "term-time holiday", "other": "other",
}
AGENCIES = {
    "social_care": "social care", "early_help": "early help", "camhs": "CAMHS",
    "school_nurse": "school nurse", "gp": "GP", "housing": "housing", "police": "police",
    "young_carers": "young carers", "send_team": "SEND team", "other": "other",
}
WORDS = {
    "family_consent": {"not_asked": "Not asked", "given": "Given", "refused": "Refused"},
    "send": {"none": "None", "sen_support": "SEN support", "ehcp": "EHC plan"},
    "status": {"open": "Open", "closed": "Closed", "draft": "Draft", "submitted": "Submitted"},
    "choose": {"kept": "kept value", "lost": "set-aside value"},
}
KINDS = {"visit": "Home visit", "conversation": "Conversation"}
FIELDS = {
    "case_id": "Case", "household_id": "Household", "officer_id": "Officer",
    "planned_for": "Planned for", "started_at": "Started", "ended_at": "Ended", "lat": "Latitude",
    "lon": "Longitude", "accuracy_m": "GPS accuracy (m)", "outcome": "Outcome",
    "child_seen": "Child seen", "safeguarding_concern": "Safeguarding concern",
    "concern_details": "Concern details", "barriers": "Barriers", "notes": "Notes", "status": "Status",
    "visit_id": "Visit", "spoke_with": "Spoke with", "reason_given": "Reason given",
    "parent_view": "Parent's view", "agreed_actions": "Agreed actions",
    "next_contact_on": "Next contact on", "address": "Address", "postcode": "Postcode",
    "contacts": "Contacts", "language": "Language", "access_notes": "Access notes",
    "assigned_officer_id": "Officer", "stage": "Stage", "agencies": "Agencies",
    "family_consent": "Family consent", "opened_on": "Opened on", "summary": "Summary",
    "pupil_id": "Pupil", "_deleted": "Deleted",
}


def field_label(name: str | None) -> str:
    if name is None:
        return "Whole record"
    return FIELDS.get(name, name.replace("_", " ").capitalize())


def year_group(value: Any) -> str:
    if value == 0:
        return "Reception"
    if value == -1:
        return "Nursery"
    return "—" if value is None else f"Year {value}"


def stage_words(message: str) -> str:
    """An engine message with stage identifiers replaced by their names."""
    for key, label in sorted(STAGE_LABELS.items(), key=lambda kv: -len(kv[0])):
        message = message.replace(key, label.lower())
    return message[:1].upper() + message[1:]


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        if len(value) == 10:
            return dt.datetime.fromisoformat(value)
        return dt.datetime.fromisoformat(value).astimezone(UK)
    except ValueError:
        return None


def when(value: Any) -> str:
    """An ISO time or date as people read it, in UK time: ``4 Nov 2026, 16:10``."""
    parsed = parse_time(value)
    if parsed is None:
        return "—" if value in (None, "") else str(value)
    if isinstance(value, str) and len(value) == 10:
        return f"{parsed.day} {parsed:%b %Y}"
    return f"{parsed.day} {parsed:%b %Y, %H:%M}"


def hlc_time(stamp: Any) -> str:
    """The wall-clock part of an HLC stamp, as ``when`` shows it."""
    if not isinstance(stamp, str) or not stamp[:15].isdigit():
        return "—"
    moment = dt.datetime.fromtimestamp(int(stamp[:15]) / 1000, dt.UTC)
    return when(moment.isoformat())


def value_text(value: Any, field: str | None = None) -> str:
    """A field value as words, for tables and history."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field == "outcome":
        return OUTCOMES.get(value, str(value))
    if field == "stage":
        return STAGE_LABELS.get(value, str(value))
    if field == "band":
        return BANDS.get(value, str(value))
    if field in WORDS and isinstance(value, str):
        return WORDS[field].get(value, value)
    if field == "barriers" and isinstance(value, list):
        return ", ".join(BARRIERS.get(v, str(v)) for v in value)
    if field == "agencies" and isinstance(value, list):
        return ", ".join(AGENCIES.get(v, str(v)) for v in value)
    if field in ("started_at", "ended_at", "planned_for", "next_contact_on", "opened_on"):
        return when(value)
    if isinstance(value, list):
        return "; ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)}: {value_text(v, k)}" for k, v in value.items() if v not in (None, ""))
    return str(value)
