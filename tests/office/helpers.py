"""Small builders for office tests on top of tests/conftest.py's ``world``."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

HOME = (53.521, -1.151)  # the world's household (tests/conftest.py)


def visit_fields(case_id: str, **fields: Any) -> dict[str, Any]:
    base = {"case_id": case_id, "planned_for": "2026-11-04", "started_at": "2026-11-04T10:00:00Z",
            "ended_at": "2026-11-04T10:20:00Z", "lat": HOME[0], "lon": HOME[1], "accuracy_m": 8.0,
            "outcome": "seen_child_and_parent", "child_seen": True, "safeguarding_concern": False,
            "notes": "All well.", "status": "submitted"}
    if "started_at" in fields and "ended_at" not in fields and fields["started_at"]:
        # a visit ends after it starts (sync/schema.py CONSISTENCY): twenty minutes after the start given
        start = dt.datetime.fromisoformat(fields["started_at"].replace("Z", "+00:00"))
        base["ended_at"] = (start + dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**base, **fields}


def add_visit(session: Any, case_id: str, **fields: Any) -> str:
    visit_id = str(uuid.uuid4())
    r = session.push([session.change("visit", visit_id, visit_fields(case_id, **fields))])
    result = r.json()["results"][0]
    assert result["status"] == "applied", result
    return visit_id


def add_conversation(session: Any, case_id: str, **fields: Any) -> str:
    conv_id = str(uuid.uuid4())
    base = {"case_id": case_id, "spoke_with": "Mum", "reason_given": "Anxious about school", "barriers": [],
            "parent_view": "Wants help", "agreed_actions": [{"action": "Meet the SENCo", "owner": "school",
                                                             "due_on": "2026-11-20"}],
            "next_contact_on": "2026-11-27", "status": "submitted"}
    r = session.push([session.change("conversation", conv_id, {**base, **fields})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    return conv_id


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point ``metres`` due north (geodesic, via geopy)."""
    from geopy.distance import geodesic

    dest = geodesic(meters=metres).destination(point, 0)
    return dest.latitude, dest.longitude


def school_days(start: str, count: int) -> list[str]:
    import datetime as dt

    day, out = dt.date.fromisoformat(start), []
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day.isoformat())
        day += dt.timedelta(days=1)
    return out


def marks_csv(upn: str, codes: list[str], start: str = "2026-09-07") -> str:
    """Marks for consecutive school-day sessions (AM, PM, AM, …) with the given codes."""
    days = school_days(start, (len(codes) + 1) // 2)
    rows = ["upn,date,session,code"]
    for i, code in enumerate(codes):
        rows.append(f"{upn},{days[i // 2]},{'AM' if i % 2 == 0 else 'PM'},{code}")
    return "\n".join(rows) + "\n"


def make_band(app_state: Any, upn: str, present: int, unauthorised: int) -> None:
    """Import marks so the pupil has this many present and unauthorised (N) sessions."""
    from server.register import marks

    report = marks.import_csv(app_state.db, app_state.clock, marks_csv(upn, ["/"] * present + ["N"] * unauthorised))
    assert not report.rejected, report.rejected
