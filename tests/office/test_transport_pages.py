"""Transport planning in the office: the form, a dry run with its map, creating the runs, the day's arrivals."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import orjson
import pytest

from server.headers import CSP
from server.office import map_svg
from server.transport import runs as transport
from server.transport.pages import next_school_day
from tests.conftest import new_id

from .conftest import text_of

SCHOOL = (53.6880, -1.4870)
HOMES = [(53.6905, -1.4950), (53.6850, -1.5100), (53.6790, -1.4880), (53.6950, -1.5200)]
START = (53.6830, -1.4990)
DAY = "2026-11-23"


def plan_and_wait(page, data, **kw):
    """Press "Plan the runs": the plan is made by a background job whose page refreshes itself
    until the proposal is ready; follow it as the browser would."""
    r = page.post("/office/transport/plan", data, **kw)
    if r.status_code != 303:
        return r
    url = r.headers["location"]
    assert url.startswith("/office/transport/plans/")
    deadline = time.monotonic() + 120
    while True:
        r = page.get(url)
        if 'http-equiv="refresh"' not in r.text or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


@pytest.fixture
def town(world, login):
    """A school (day starts 08:45, register closes 09:15) with four eligible pupils with open cases,
    one eligible pupil without a case, one pupil with a case who is not eligible, and one with neither."""
    office, officer, _ = world
    school = new_id()
    changes = [office.change("school", school, {"name": "Eastmoor Primary", "lat": SCHOOL[0], "lon": SCHOOL[1],
                                                "day_starts": "08:45"})]
    pupils: dict[str, str] = {}

    def add(key: str, first: str, home: tuple[float, float], eligible: bool, case: bool) -> None:
        household, pupil = new_id(), new_id()
        pupils[key] = pupil
        changes.append(office.change("household", household, {"address": f"{len(pupils)} Park Road",
                                                               "postcode": "WF1 4AA", "lat": home[0],
                                                               "lon": home[1]}))
        changes.append(office.change("pupil", pupil, {
            "upn": f"T{len(pupils):012d}", "first_name": first, "last_name": "Rider", "school_id": school,
            "household_id": household, "transport_eligible": eligible, "year_group": 4}))
        if case:
            changes.append(office.change("case", new_id(), {"pupil_id": pupil,
                                                            "assigned_officer_id": officer.user["id"]}))

    for n, home in enumerate(HOMES):
        add(f"p{n}", f"Kid{n}", home, True, True)
    add("no_case", "Nocase", (53.6900, -1.4900), True, False)
    add("not_eligible", "Walker", (53.6890, -1.4890), False, True)
    add("neither", "Hidden", (53.6870, -1.4860), False, False)
    r = office.push(changes)
    assert {x["status"] for x in r.json()["results"]} == {"applied"}, r.text
    driver = login("officer")
    return {"office": office, "officer": officer, "driver": driver, "school": school, "pupils": pupils}


def plan_form(town, seats: int = 3, **extra):
    p = town["pupils"]
    data = {"school": town["school"], "date": DAY, "pupil": [p["p0"], p["p1"], p["p2"], p["p3"]],
            "v0_driver": town["driver"].user["id"], "v0_name": "Astra YX21 ABC", "v0_seats": str(seats),
            "v0_lat": str(START[0]), "v0_lon": str(START[1]), "v0_available_from": "07:30"}
    data.update(extra)
    return data


def audits(app_state, action: str, user_id: str) -> list[dict]:
    rows = app_state.db.query("SELECT entity_ids, detail FROM audit WHERE action = ? AND user_id = ? ORDER BY id",
                              (action, user_id))
    return [{"ids": orjson.loads(r["entity_ids"]), "detail": orjson.loads(r["detail"])} for r in rows]


def test_the_form_defaults_to_eligible_pupils_with_open_cases(town, office_page, app_state):
    page = office_page()
    html = page.get("/office/transport", school=town["school"], date=DAY).text
    p = town["pupils"]
    checked = re.findall(r'name="pupil" value="([^"]+)" checked', html)
    assert sorted(checked) == sorted(transport.default_pupils(app_state, town["school"]))
    assert sorted(checked) == sorted([p["p0"], p["p1"], p["p2"], p["p3"]])
    listed = re.findall(r'name="pupil" value="([^"]+)"', html)
    assert p["no_case"] in listed and p["not_eligible"] in listed and p["neither"] not in listed
    assert listed[:4] == sorted(listed[:4], key=lambda i: [p[f"p{n}"] for n in range(4)].index(i))
    text = text_of(html)
    assert "Kid0 Rider, Year 4" in text and "eligible for transport; open case" in text
    assert "Blank: 08:35, 10 minutes before the school day starts at 08:45. The register closes at 09:15" in text
    assert town["driver"].user["username"] in html or "Choose an officer" in text
    officers = re.findall(r'<option value="([^"]+)"', html[html.index('id="v0-driver"'):html.index('id="v0-name"')])
    assert town["driver"].user["id"] in officers and page.user["id"] not in officers
    [seen] = [a for a in audits(app_state, "office_view", page.user["id"]) if a["detail"]["page"] ==
              "transport planning"]
    assert set(seen["ids"]) == {p[k] for k in ("p0", "p1", "p2", "p3", "no_case", "not_eligible")}


def test_without_a_school_the_page_asks_for_one(office_page):
    page = office_page()
    r = page.get("/office/transport")
    assert r.status_code == 200
    assert "Choose a school to see its pupils." in text_of(r.text) and 'name="pupil"' not in r.text
    r = page.get("/office/transport", school="nope", date="not-a-date")
    assert r.status_code == 200 and f'value="{next_school_day().isoformat()}"' in r.text


def test_plan_shows_runs_stops_unplaced_and_a_map_and_saves_nothing(town, office_page, app_state):
    page = office_page()
    r = plan_and_wait(page, plan_form(town))
    assert r.status_code == 200, text_of(r.text)[:2000]
    html, text = r.text, text_of(r.text)
    assert "A proposal only: nothing is saved yet." in text
    assert "Register closes 09:15" in text and "Arrive by 08:35" in text  # for the bell, not the close
    assert re.search(r"Planned with (VROOM|PyVRP|VROOM, improved by PyVRP) [\d.]+(\+[\d.]+)? in [\d.]+ s", text)
    assert transport.runs_on(app_state, dt.date(2026, 11, 23)) == []
    # one run of three stops in order, with pick-up time, ride time and load
    assert "Run 1: Astra YX21 ABC, " in text
    table = html[html.index('class="stops-table"'):html.index("</table>", html.index('class="stops-table"'))]
    rows = re.findall(r"<tr data-pupil=\"([^\"]+)\">(.*?)</tr>", table, flags=re.DOTALL)
    assert len(rows) == 3
    cells = [text_of(body).strip() for _, body in rows]
    assert [c.split()[0] for c in cells] == ["1", "2", "3"]
    assert all(re.search(r"\b0[7-9]:\d\d \d+ min [123] of 3$", c) for c in cells), cells
    assert [c.split()[-3] for c in cells] == ["1", "2", "3"]  # the load grows by one a stop
    times = [re.search(r"\d\d:\d\d", c).group(0) for c in cells]
    assert times == sorted(times) and times[-1] <= "08:35"
    # the fourth pupil does not fit: in words
    unplaced = html[html.index('class="unplaced-table"'):]
    assert "Not enough seats: every vehicle that could take this pupil is full." in text_of(unplaced)
    placed = {pid for pid, _ in rows}
    [left] = set(plan_form(town)["pupil"]) - placed
    assert f'data-pupil="{left}"' in unplaced
    # the map: one line for the run, numbered stops, the school, a cross for the unplaced, title and desc
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="plan-map-title plan-map-desc"' in svg
    assert '<title id="plan-map-title">Proposed runs to Eastmoor Primary</title>' in svg
    assert "1 run to Eastmoor Primary with 3 stops" in svg and "1 pupil not placed" in svg
    assert len(re.findall(r'class="run-line"', svg)) == 1
    assert re.findall(r'data-stop="([\d,]+)"', svg) == ["1", "2", "3"]
    assert 'class="school"' in svg and 'class="unplaced"' in svg
    assert not re.search(r"\sstyle=", html)
    # "Create these runs" carries the same choices and the CSRF token
    create = html[html.index('action="/office/transport/create"'):]
    create = create[:create.index("</form>")]
    assert f'name="csrf_token" value="{page.csrf}"' in create
    for pid in plan_form(town)["pupil"]:
        assert f'name="pupil" value="{pid}"' in create
    assert f'name="v0_driver" value="{town["driver"].user["id"]}"' in create
    [planned] = audits(app_state, "transport_plan", page.user["id"])
    assert planned["detail"]["dry_run"] is True and set(planned["ids"]) == set(plan_form(town)["pupil"])


def test_create_makes_the_runs_the_driver_pulls_them(town, office_page, app_state):
    page = office_page()
    dry = plan_and_wait(page, plan_form(town)).text
    dry_order = re.findall(r'<tr data-pupil="([^"]+)">', dry[dry.index('class="stops-table"'):])
    r = page.post("/office/transport/create", plan_form(town))
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/office/transport/day?date={DAY}&school={town['school']}&created=1")
    [run] = transport.runs_on(app_state, dt.date(2026, 11, 23))
    assert run["driver_id"] == town["driver"].user["id"] and run["vehicle"] == "Astra YX21 ABC"
    assert [s["pupil_id"] for s in run["stops"]] == dry_order[:3]  # the same plan as the dry run
    items, _ = town["driver"].pull_all()
    got = {(i["type"], i["id"]) for i in items}
    assert ("transport_run", run["id"]) in got and all(("transport_stop", s["id"]) in got for s in run["stops"])
    day = page.get(r.headers["location"])
    text = text_of(day.text)
    assert "Created 1 run with 3 stops." in text and "Astra YX21 ABC" in text
    assert [p for p in re.findall(r'<tr data-pupil="([^"]+)"', day.text)] == dry_order[:3]
    assert "not picked up yet" in text and "Register closes 09:15" in text
    made = [a for a in audits(app_state, "transport_plan", page.user["id"]) if not a["detail"]["dry_run"]]
    assert made[0]["detail"]["runs"] == [run["id"]] and set(made[0]["ids"]) == {run["id"], *dry_order[:3]}


def test_plan_and_create_need_the_csrf_token(town, office_page, app_state):
    page = office_page()
    r = plan_and_wait(page, plan_form(town), csrf=False)
    assert r.status_code == 403 and "Proposed runs" not in r.text
    assert audits(app_state, "transport_plan", page.user["id"]) == []
    r = page.post("/office/transport/create", plan_form(town), csrf=False)
    assert r.status_code == 403 and "security token" in r.text
    r = page.post("/office/transport/create", {**plan_form(town), "csrf_token": "forged"}, csrf=False)
    assert r.status_code == 403
    assert app_state.db.query("SELECT count(*) AS n FROM transport_runs")[0]["n"] == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"pupil": []}, "Choose at least one pupil to collect."),
    ({"v0_driver": ""}, "Choose a driver for at least one vehicle."),
    ({"v0_seats": "0"}, "Vehicle 1: seats must be a whole number from 1 to 80."),
    ({"v0_seats": "lots"}, "Vehicle 1: seats must be a whole number from 1 to 80."),
    ({"v0_lon": ""}, "Vehicle 1: the start needs both a latitude"),
    ({"v0_lat": "95"}, "Vehicle 1: the start needs both a latitude"),
    ({"v0_available_from": "7am"}, "Vehicle 1: “available from” must be a time of day"),
    ({"v0_max_ride": "0"}, "Vehicle 1: the longest ride must be a whole number of minutes"),
    ({"date": "2026-02-30"}, "Give the date of the school day"),
    ({"arrive_by": "25:00"}, "“Arrive by” must be a time of day"),
    ({"pupil": [new_id()]}, "Some chosen pupils are not at this school."),
])
def test_bad_choices_are_named_and_nothing_is_planned(town, office_page, app_state, change, message):
    page = office_page()
    r = plan_and_wait(page, {**plan_form(town), **change})
    assert r.status_code == 422 and message in text_of(r.text)
    assert "Proposed runs" not in r.text and 'role="alert"' in r.text
    assert audits(app_state, "transport_plan", page.user["id"]) == []
    r = page.post("/office/transport/create", {**plan_form(town), **change})
    assert r.status_code == 422 and message in text_of(r.text)
    assert app_state.db.query("SELECT count(*) AS n FROM transport_runs")[0]["n"] == 0


def test_a_driver_who_is_not_an_officer_is_refused(town, office_page):
    page = office_page()
    r = plan_and_wait(page, plan_form(town, v0_driver=page.user["id"]))
    assert r.status_code == 422 and "Vehicle 1: choose a driver from the list of officers." in text_of(r.text)


def test_unplaced_reasons_name_the_vehicle_and_two_vehicles_make_two_lines(town, office_page):
    page = office_page()
    late = {"v1_driver": town["officer"].user["id"], "v1_name": "Minibus", "v1_seats": "8",
            "v1_available_from": "09:14", "v1_lat": "", "v1_lon": ""}
    r = plan_and_wait(page, plan_form(town, seats=1, **late))
    text = text_of(r.text)
    assert r.status_code == 200 and "Run 1: Astra YX21 ABC" in text and "Run 2" not in text
    assert "No vehicle can get this pupil to school in time" not in text  # the car could, but is full
    assert "Not enough seats" in text or "would make someone late" in text
    # a vehicle free only after the register closes cannot take anybody: its own words, its own name
    r = plan_and_wait(page, plan_form(town, v0_available_from="09:14"))
    text = text_of(r.text)
    assert "No vehicle can get this pupil to school in time, even driving straight there." in text
    assert "Astra YX21 ABC (" in text and "vehicle v0" not in text
    assert "No run: nobody chosen could be placed." in text and "No run can be made from these choices" in text
    assert 'action="/office/transport/create"' not in r.text
    two = {"v1_driver": town["officer"].user["id"], "v1_name": "Minibus", "v1_seats": "2",
           "v1_available_from": "07:30"}
    r = plan_and_wait(page, plan_form(town, seats=2, **two))
    svg = r.text[r.text.index("<svg"):r.text.index("</svg>")]
    assert len(re.findall(r'class="run-line"', svg)) == 2 and "Run 2: Minibus" in text_of(r.text)
    assert "Vehicle 3 (optional)" in r.text  # one blank vehicle row after the ones in use


def test_the_form_offers_at_most_six_vehicles(town, office_page):
    page = office_page()
    six = {}
    for n in range(6):
        six.update({f"v{n}_driver": town["driver"].user["id"], f"v{n}_seats": "1", f"v{n}_available_from": "07:30"})
    r = plan_and_wait(page, plan_form(town, **six))
    assert r.status_code == 200 and "Vehicle 6 (optional)" in r.text and "Vehicle 7" not in r.text
    assert 'name="v5_driver" value=' in r.text  # the sixth is planned with, and carried to "Create"


def test_the_day_shows_arrivals_against_the_register_close(town, office_page, app_state):
    page = office_page()
    assert page.post("/office/transport/create", plan_form(town, seats=4)).status_code == 303
    [run] = transport.runs_on(app_state, dt.date(2026, 11, 23))
    driver = town["driver"]
    driver.pull_all()
    first, second = run["stops"][0], run["stops"][1]
    r = driver.push([driver.change("transport_stop", first["id"], {"status": "picked_up",
                                                                    "event_at": "2026-11-23T08:40:00Z"}, 1),
                     driver.change("transport_stop", second["id"], {"status": "no_show"}, 1),
                     driver.change("transport_run", run["id"], {"status": "done",
                                                                "arrived_at": "2026-11-23T09:20:00Z"}, 1)])
    assert {x["status"] for x in r.json()["results"]} == {"applied"}
    html = page.get("/office/transport/day", date=DAY).text
    text = text_of(html)
    row = html[html.index(f'<tr data-pupil="{first["pupil_id"]}"'):]
    row = row[:row.index("</tr>")]
    assert 'class="row-concern"' in row and "late after register closed (U)" in text_of(row)
    assert "badge-concern" in row and "Picked up at 08:40" in text_of(row)
    assert "1 pupil was late after the register closed (U):" in text
    assert "reached Eastmoor Primary at 09:20; the register closed at 09:15" in text
    other = html[html.index(f'<tr data-pupil="{second["pupil_id"]}"'):]
    assert "No show" in text_of(other[:other.index("</tr>")]) and "not carried" in text_of(other[:other.index("</tr>")])
    assert "Status Done" in text and "At school 09:20 — after the register closed" in text
    # before the close: L, marked but not as a concern
    driver.push([driver.change("transport_run", run["id"], {"arrived_at": "2026-11-23T08:55:00Z"}, 2)])
    html = page.get("/office/transport/day", date=DAY, school=town["school"]).text
    row = html[html.index(f'<tr data-pupil="{first["pupil_id"]}"'):]
    row = row[:row.index("</tr>")]
    assert 'class="row-alert"' in row and "late before register closed (L)" in text_of(row)
    assert "late after the register closed" not in text_of(html)
    seen = [a for a in audits(app_state, "office_view", page.user["id"]) if a["detail"]["page"] == "transport day"]
    assert seen and set(seen[-1]["ids"]) == {s["pupil_id"] for s in run["stops"]}
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert '<title id="day-map-1-title">Runs to Eastmoor Primary</title>' in svg


def test_a_day_without_runs(office_page):
    page = office_page()
    r = page.get("/office/transport/day", date="2031-01-06")
    assert r.status_code == 200 and "No runs on this day." in text_of(r.text)
    assert page.get("/office/transport/day", date="garbage").status_code == 200


@pytest.mark.parametrize("role", ["office", "admin"])
def test_transport_pages_keep_to_the_csp_and_label_every_field(role, town, office_page):
    page = office_page(role)
    pages = [page.get("/office/transport"), page.get("/office/transport", school=town["school"], date=DAY),
             plan_and_wait(page, plan_form(town)), page.get("/office/transport/day", date=DAY)]
    for r in pages:
        html = r.text
        assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
        assert not re.search(r"\sstyle=", html) and not re.search(r"<style", html)
        assert not re.search(r"\son[a-z]+=", html)
        assert all('src="/office/static/' in s for s in re.findall(r"<script[^>]*>", html))
        assert html.count("<h1>") == 1 and 'href="/office/transport" aria-current="page"' in html
        for field in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in field:
                continue
            field_id = re.search(r'id="([^"]+)"', field)
            inside = re.search(r"<label[^>]*>(?:(?!</label>).)*" + re.escape(field), html, flags=re.DOTALL)
            assert inside or (field_id and f'for="{field_id.group(1)}"' in html), field
        for form in re.findall(r'<form method="post".*?</form>', html, flags=re.DOTALL):
            assert f'name="csrf_token" value="{page.csrf}"' in form


def test_signed_out_visitors_are_sent_to_sign_in(client):
    r = client.get("/office/transport", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/office/login?next=")
    assert client.post("/office/transport/create", data={}, follow_redirects=False).status_code == 403


def test_map_projection_keeps_north_up_and_east_right():
    school = map_svg.Place(53.68, -1.49, "School <&>")
    north_east = map_svg.Place(53.70, -1.45, "Ava & Co")
    south_west = map_svg.Place(53.66, -1.53, "Ben")
    svg = str(map_svg.route_map("m", "Runs", school, [map_svg.MapRun("Car", [north_east, south_west])]))
    pts = re.search(r'class="run-line" data-run="1" points="([^"]+)"', svg).group(1).split()
    (x1, y1), (x2, y2), (xs, ys) = [tuple(map(float, p.split(","))) for p in pts]
    assert x1 > xs > x2 and y1 < ys < y2  # north-east is up and right; south-west down and left
    # equal distances east and north look equal: the x scale carries cos(latitude)
    assert abs((x1 - xs) / (ys - y1) - (0.04 * 0.5934) / 0.02) < 0.02
    assert "School &lt;&amp;&gt;" in svg and "Ava &amp; Co" in svg and "<&>" not in svg
    assert 0 <= min(x1, x2, xs) and max(x1, x2, xs) <= map_svg.WIDTH
    assert 0 <= min(y1, y2, ys) and max(y1, y2, ys) <= map_svg.PLOT_H


def test_map_of_one_place_and_siblings_sharing_a_door():
    home = map_svg.Place(53.7, -1.5, "Twin A")
    twin = map_svg.Place(53.7, -1.5, "Twin B")
    svg = str(map_svg.route_map("m", "Runs", map_svg.Place(53.7, -1.5, "School"), [map_svg.MapRun("Car", [home, twin])]))
    assert re.findall(r'data-stop="([\d,]+)"', svg) == ["1,2"] and "Stop 1: Twin A; Stop 2: Twin B" in svg
    assert "nan" not in svg.lower()
    many = [map_svg.MapRun(f"Run {n}", [map_svg.Place(53.7 + n / 100, -1.5, f"P{n}")]) for n in range(10)]
    svg = str(map_svg.route_map("m", "Runs", map_svg.Place(53.7, -1.5, "School"), many))
    assert len(re.findall(r'class="run-line"', svg)) == 10 and svg.count('<text x="58"') == 11


def test_planning_shows_a_progress_bar_until_the_proposal_is_ready(town, office_page, monkeypatch):
    from server.transport import plan_jobs

    release = threading.Event()
    real = plan_jobs._solve_apart
    first: dict = {}

    def held(ctx, problem, budget):  # the planner, held half-way until the test has looked
        from server.planner import plan, plan_to_json, problem_from_json

        first.update(plan_to_json(plan(problem_from_json(json.dumps(problem)), solver="vroom")))
        ctx.fields["best_so_far"] = first  # as the job reports VROOM's plan while PyVRP searches on
        ctx.progress(elapsed_s=budget / 2)
        assert release.wait(60)
        return real(ctx, problem, budget)

    monkeypatch.setattr(plan_jobs, "_solve_apart", held)
    page = office_page()
    r = page.post("/office/transport/plan", plan_form(town))
    assert r.status_code == 303
    url = r.headers["location"]
    deadline = time.monotonic() + 30
    while True:
        r = page.get(url)
        bar = re.search(r'<progress id="plan-progress" max="([\d.]+)" value="([\d.]+)"', r.text)
        if (bar and float(bar[2]) > 0) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    html = r.text
    assert bar and float(bar[2]) == float(bar[1]) / 2, html  # time used / budget
    assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
    assert '<meta http-equiv="refresh" content="1">' in html and not re.search(r"\sstyle=", html)
    assert '<label for="plan-progress">Time used</label>' in html and "Proposed runs" not in html
    placed = sum(len(r["stops"]) for r in first["routes"])
    assert placed and f'data-placed="{placed}"' in html  # the best plan so far: counts by vehicle, no names
    assert "Best plan so far" in text_of(html) and "Astra YX21 ABC" in text_of(html)
    assert page.get(f"/office/transport/plans/{new_id()}").status_code == 404
    release.set()
    deadline = time.monotonic() + 120
    while 'http-equiv="refresh"' in r.text and time.monotonic() < deadline:
        time.sleep(0.2)
        r = page.get(url)
    assert r.status_code == 200 and "Proposed runs to Eastmoor Primary" in text_of(r.text)
    assert page.get("/office/transport/plans/not-a-job").status_code == 404


def test_create_saves_the_runs_as_proposed_and_only_once(town, office_page, app_state):
    from server import jobs

    page = office_page()
    dry = plan_and_wait(page, plan_form(town)).text
    create = dry[dry.index('action="/office/transport/create"'):]
    job_id = re.search(r'name="job" value="([^"]+)"', create)[1]
    proposed = jobs.get(app_state.db, job_id)["result"]["answer"]["runs"]
    r = page.post("/office/transport/create", {**plan_form(town), "job": job_id})
    assert r.status_code == 303
    [run] = transport.runs_on(app_state, dt.date(2026, 11, 23))
    assert run["id"] == proposed[0]["id"]  # the proposal itself, not a new plan
    assert [s["id"] for s in run["stops"]] == [s["id"] for s in proposed[0]["stops"]]
    # pressed twice: the same records again, not a second set of runs
    assert page.post("/office/transport/create", {**plan_form(town), "job": job_id}).status_code == 303
    assert [r["id"] for r in transport.runs_on(app_state, dt.date(2026, 11, 23))] == [run["id"]]
    # changed choices are planned afresh, not taken from a proposal for other choices
    r = page.post("/office/transport/create", {**plan_form(town, seats=1), "job": job_id})
    assert r.status_code == 303 and len(transport.runs_on(app_state, dt.date(2026, 11, 23))) == 2
