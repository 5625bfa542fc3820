"""The county plan's progress page shows the best plan so far (the whole-county
solves' plan) while the neighbourhoods are still re-planned: counts by vehicle,
by the fleet's names, and no pupil's name until the plan is made."""
from __future__ import annotations

import json
import re
import threading
import time

import pytest

from server.transport import plan_jobs
from tests.server.test_transport_county import county_world

from .conftest import text_of


@pytest.fixture(autouse=True)
def _day(monkeypatch):
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-23")


def test_the_progress_page_shows_the_best_plan_so_far(login, office_page, monkeypatch):
    schools, pupils, vehicles = county_world(login("office"))
    release, first = threading.Event(), {}
    real = plan_jobs.solve_apart

    def held(ctx, problem, budget):  # the planner's first plan reported, then held until the test has looked
        from server.planner import plan, plan_to_json, problem_from_json

        first.update(plan_to_json(plan(problem_from_json(json.dumps(problem)), time_budget=1.0)))
        ctx.fields["best_so_far"] = first
        ctx.progress(elapsed_s=budget / 2)
        assert release.wait(60)
        return real(ctx, problem, budget)

    monkeypatch.setattr(plan_jobs, "solve_apart", held)
    page = office_page()
    r = page.post("/office/transport/county", {"date": "2026-11-23", "run": "morning", "school": schools})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    deadline = time.monotonic() + 30
    while True:
        r = page.get(url)
        if "best-so-far" in r.text or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    html, text = r.text, text_of(r.text)
    assert r.status_code == 200 and 'http-equiv="refresh"' in html, html
    assert f'data-placed="{first["placed"]}"' in html and "Best plan so far" in text
    names = {v["id"]: v["name"] for v in vehicles}
    assert first["routes"] and all(names[route["vehicle"]] in text for route in first["routes"])
    assert not re.search(r"Kid\d+", text)  # no pupil's name while the search goes on
    release.set()
    deadline = time.monotonic() + 120
    while 'http-equiv="refresh"' in r.text and time.monotonic() < deadline:
        time.sleep(0.2)
        r = page.get(url)
    assert r.status_code == 200 and "Best plan so far" not in text_of(r.text)
    assert re.search(r"Kid\d+", text_of(r.text))  # the plan, with names, once made
