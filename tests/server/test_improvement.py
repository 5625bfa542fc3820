"""Improvement spotted (server/register/improvement.py), hand-computed, through the marks API and
the pupil records phones pull; the office's list per school and per officer's caseload."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from server.config import Settings
from server.register.figures import BandThresholds
from server.register.improvement import is_improving
from tests.conftest import new_id

MONDAY = dt.date(2026, 9, 7)
UPNS = {"exact": "A123456789012", "short": "B123456789012", "band": "C123456789012", "steady": "D123456789012",
        "quiet": "E123456789012"}


def week(upn: str, n: int, codes: list[str]) -> list[str]:
    """Week ``n`` (0 = 7 Sept 2026): ten sessions, Monday AM to Friday PM."""
    out = []
    for i, code in enumerate(codes):
        day = MONDAY + dt.timedelta(weeks=n, days=i // 2)
        out.append(f"{upn},{day.isoformat()},{('AM', 'PM')[i % 2]},{code}")
    return out


def present(k: int, absent: str = "I", x: int = 0) -> list[str]:
    """k present of ten sessions, then ``x`` X (not counted), the rest ``absent``."""
    return ["/"] * k + ["X"] * x + [absent] * (10 - k - x)


# weeks 0-3 (the 4 before) and 4-7 (the last 4), as present sessions out of 10 a week
PLAN = {
    # 24/40 = 60% then 28/40 = 70%: exactly 10 points, both persistent -> improving
    "exact": [present(6)] * 4 + [present(7)] * 4,
    # 24/40 = 60% then 27 of 39 possible (one X) = 69.2%: 9.2 points, still persistent -> not improving
    "short": [present(6)] * 4 + [present(7)] * 3 + [present(6, x=1)],
    # 37/40 = 92.5% (at risk) then 39/40 = 97.5% (ok): 5 points but a better band -> improving
    "band": [present(9)] * 3 + [present(10)] + [present(10)] * 3 + [present(9)],
    # 100% throughout -> not improving
    "steady": [present(10)] * 8,
    # 20/40 = 50% then 30/30 = 100%, no marks in the last week: found when the school's 8th week
    # arrives without a mark of its own (the roll forward)
    "quiet": [present(5)] * 4 + [present(10)] * 3,
}


def import_csv(session, rows: list[str]):
    r = session.client.post("/api/register/marks", headers={**session.headers, "Content-Type": "text/csv"},
                            content=("upn,date,session,code\n" + "\n".join(rows) + "\n").encode())
    assert r.status_code == 200, r.text
    return r.json()


def weeks_of(first: int, last: int) -> list[str]:
    return [row for name, plan in PLAN.items() for n, codes in enumerate(plan) if first <= n <= last
            for row in week(UPNS[name], n, codes)]


def pupils(session) -> dict[str, dict]:
    items, _ = session.pull_all()
    by_upn = {i["fields"]["upn"]: i["fields"] for i in items if i["type"] == "pupil"}
    return {name: by_upn[upn] for name, upn in UPNS.items() if upn in by_upn}


@pytest.fixture
def school(world):
    office, officer, ids = world
    cases = {}
    for name, upn in UPNS.items():
        if name == "exact":
            continue
        pupil_id, case_id = new_id(), new_id()
        changes = [office.change("pupil", pupil_id, {"upn": upn, "first_name": name.title(), "last_name": "Roe",
                                                     "school_id": ids["school"], "household_id": ids["household"]})]
        if name == "band":  # on the officer's caseload, as "exact" (the world's pupil) is
            changes.append(office.change("case", case_id, {"pupil_id": pupil_id,
                                                           "assigned_officer_id": officer.user["id"]}))
        r = office.push(changes)
        assert {x["status"] for x in r.json()["results"]} == {"applied"}, r.text
        cases[name] = pupil_id
    return office, officer, ids


def test_the_rule_on_hand_computed_windows():
    bands = BandThresholds()
    assert is_improving((28, 40), (24, 40), bands)  # exactly 10 points
    assert not is_improving((27, 39), (24, 40), bands)  # 9.2 points, same band
    assert is_improving((39, 40), (37, 40), bands)  # at risk -> ok
    assert not is_improving((40, 40), (40, 40), bands)
    assert not is_improving((40, 40), (0, 0), bands)  # nothing to compare with
    assert not is_improving((28, 40), (24, 40), BandThresholds(improvement_points=12.5))
    assert is_improving((29, 40), (24, 40), BandThresholds(improvement_points=12.5))  # 12.5 exactly
    with pytest.raises(ValueError):
        BandThresholds(improvement_points=0)


def test_the_setting_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DOORSTEP_IMPROVEMENT_POINTS", "12.5")
    assert Settings(db_path=str(tmp_path / "x.db")).improvement_points == 12.5
    monkeypatch.setenv("DOORSTEP_IMPROVEMENT_POINTS", "0")
    with pytest.raises(ValueError, match="DOORSTEP_IMPROVEMENT_POINTS"):
        Settings(db_path=str(tmp_path / "x.db"))


def stored(app_state) -> dict[str, tuple]:
    """The figures rows' (last 4 weeks, the 4 before, improving): percentages in tenths."""
    with app_state.db.read() as txn:
        rows = txn.execute("SELECT p.upn, f.prior_pct, f.recent_pct, f.improving FROM figures f "
                           "JOIN register_pupils p ON p.pk = f.pupil_pk").fetchall()
    names = {upn: name for name, upn in UPNS.items()}
    return {names[upn]: tuple(rest) for upn, *rest in rows}


def test_too_few_school_weeks_then_improving_on_the_eighth(school, app_state):
    office, officer, ids = school
    import_csv(office, weeks_of(0, 6))  # 7 school weeks: nothing to compare
    seen = pupils(office)
    for name in UPNS:
        assert seen[name]["improving"] is False, name
        assert seen[name]["attendance_last_4_weeks_pct"] is None
        assert seen[name]["attendance_previous_4_weeks_pct"] is None
    assert set(stored(app_state).values()) == {(None, None, 0)}
    report = import_csv(office, weeks_of(7, 7))  # the 8th school week ("quiet" has no mark in it)
    assert report["pupils_updated"] == 5  # "quiet" too: the roll forward found it improving
    seen = pupils(office)
    got = {name: (f["improving"], f["attendance_previous_4_weeks_pct"], f["attendance_last_4_weeks_pct"])
           for name, f in seen.items()}
    # the two percentages go to the record only while a pupil is improving (so records do not
    # change every week); the office and the figures keep them for everyone
    assert got == {"exact": (True, 60.0, 70.0), "short": (False, None, None), "band": (True, 92.5, 97.5),
                   "steady": (False, None, None), "quiet": (True, 50.0, 100.0)}
    assert stored(app_state) == {"exact": (600, 700, 1), "short": (600, 692, 0), "band": (925, 975, 1),
                                 "steady": (1000, 1000, 0), "quiet": (500, 1000, 1)}
    # the officer's phone: the two pupils on their caseload, with the same fields
    mine = pupils(officer)
    assert {n: (f["improving"], f["attendance_last_4_weeks_pct"]) for n, f in mine.items()} == {
        "exact": (True, 70.0), "band": (True, 97.5)}


def test_a_later_mark_can_end_the_improvement(school, app_state):
    office, _officer, _ids = school
    import_csv(office, weeks_of(0, 7))
    assert pupils(office)["exact"]["improving"] is True
    # a corrected mark in the last 4 weeks: 27/40 = 67.5%, 7.5 points -> no longer improving
    import_csv(office, [f"{UPNS['exact']},{(MONDAY + dt.timedelta(weeks=7)).isoformat()},AM,O"])
    f = pupils(office)["exact"]
    assert (f["improving"], f["attendance_last_4_weeks_pct"]) == (False, None)
    assert stored(app_state)["exact"] == (600, 675, 0)


def test_the_office_lists_improving_pupils_per_school_and_per_officer(school, client, make_user, app_state):
    from tests.office.conftest import OfficePage

    office, officer, ids = school
    import_csv(office, weeks_of(0, 7))
    user = make_user("office")
    page = OfficePage(client, user)
    assert page.sign_in().status_code == 303

    def names(**params: str) -> list[str]:
        r = page.get("/office/register/improving", **params)
        assert r.status_code == 200, r.text
        return re.findall(r'<a href="/office/pupils/[^"]+">([^<]+)</a>', r.text)

    assert sorted(names()) == ["Ava Stone", "Band Roe", "Quiet Roe"]
    assert sorted(names(school=ids["school"])) == ["Ava Stone", "Band Roe", "Quiet Roe"]
    assert sorted(names(officer=officer.user["id"])) == ["Ava Stone", "Band Roe"]
    assert names(school=new_id()) == []
    r = page.get("/office/register/improving")
    ava = re.search(r'<a href="(/office/pupils/[^"]+)">Ava Stone</a>', r.text).group(1)
    assert "<strong>70.0%</strong> over the last 4 school weeks, 60.0% over the 4 before" in page.get(ava).text
    # what the praise pages read
    from server.register.improvement import improving_pupil_ids

    assert len(improving_pupil_ids(app_state)) == 3
    assert improving_pupil_ids(app_state, school_id=new_id()) == []
