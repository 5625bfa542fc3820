"""The office's day of runs says each stop's state in the phone's words: both read sync/vocabulary.json."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import new_id

from .conftest import text_of

DAY = "2026-11-23"
VOCABULARY = json.loads((Path(__file__).parents[2] / "sync" / "vocabulary.json").read_text())["enums"]
STOP_WORDS = {code: v["label"] for code, v in VOCABULARY["stop_status"].items()}
RUN_WORDS = {code: v["label"] for code, v in VOCABULARY["run_status"].items()}


def row_text(html: str, pupil_id: str) -> str:
    row = html[html.index(f'<tr data-pupil="{pupil_id}"'):]
    return text_of(row[:row.index("</tr>")])


def test_each_stop_state_in_the_phone_words(world, office_page) -> None:
    office, officer, ids = world
    run = new_id()
    codes = list(STOP_WORDS)  # every state the phone can show
    pupils = [new_id() for _ in codes]
    stops = [new_id() for _ in codes]
    changes = [office.change("transport_run", run, {"date": DAY, "school_id": ids["school"],
                                                    "driver_id": officer.user["id"], "vehicle": "Van 1",
                                                    "status": "in_progress", "departed_at": f"{DAY}T07:50:00Z"})]
    for n, (code, pupil, stop) in enumerate(zip(codes, pupils, stops, strict=True), start=1):
        changes.append(office.change("pupil", pupil, {"upn": f"W{n:012d}", "first_name": f"Kid{n}",
                                                      "last_name": "Rider", "school_id": ids["school"],
                                                      "household_id": ids["household"]}))
        fields = {"run_id": run, "position": n, "pupil_id": pupil, "household_id": ids["household"], "status": code}
        if code != "pending":
            fields["event_at"] = f"{DAY}T08:0{n}:00Z"
        changes.append(office.change("transport_stop", stop, fields))
    r = office.push(changes)
    assert {x["status"] for x in r.json()["results"]} == {"applied"}, r.text
    page = office_page()

    html = page.get("/office/transport/day", date=DAY).text
    assert f"Status {RUN_WORDS['in_progress']}" in text_of(html)
    for n, (code, pupil) in enumerate(zip(codes, pupils, strict=True), start=1):
        words = row_text(html, pupil)
        assert (f"{STOP_WORDS[code]} at 08:0{n}" if code != "pending" else STOP_WORDS[code]) in words, words
    assert "not picked up yet" in row_text(html, pupils[codes.index("pending")])

    # once the run is at school, a stop still waiting was not carried: never "done" beside "not picked up yet"
    r = office.push([office.change("transport_run", run, {"status": "done", "arrived_at": f"{DAY}T08:30:00Z"}, 1)])
    assert r.json()["results"][0]["status"] == "applied", r.text
    html = page.get("/office/transport/day", date=DAY).text
    assert f"Status {RUN_WORDS['done']}" in text_of(html)
    waiting = row_text(html, pupils[codes.index("pending")])
    assert STOP_WORDS["pending"] in waiting and "not carried" in waiting and "not picked up yet" not in waiting
