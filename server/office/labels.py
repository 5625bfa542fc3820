"""Words for the codes the records hold: what the office pages show instead of identifiers."""
from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from sync.schema_codes import STAGES
from sync.schema_export import vocabulary

UK = zoneinfo.ZoneInfo("Europe/London")
VOCABULARY = vocabulary()  # sync/vocabulary.json: the words the phone uses too


def _labels(enum: str) -> dict[str, str]:
    return {code: entry["label"] for code, entry in VOCABULARY["enums"][enum].items()}


OUTCOMES = _labels("outcome")
STAGE_LABELS = _labels("stage")
assert tuple(STAGE_LABELS) == STAGES
BANDS = _labels("band")
REVIEW_STATES = _labels("review_state")
BARRIERS = _labels("barrier")
AGENCIES = _labels("agency")
STOP_STATUS = _labels("stop_status")
RUN_STATUS = _labels("run_status")
# code words by the field that holds them
WORDS = {
    "family_consent": _labels("consent"),
    "send": _labels("send"),
    "status": {**_labels("case_status"), **_labels("record_status")},
    "choose": _labels("conflict_side"),
}
KINDS = {t: VOCABULARY["types"][t]["label"] for t in ("visit", "conversation")}
FIELDS = {name: entry["label"] for name, entry in VOCABULARY["fields"].items()}


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
