"""Generated counties and a feasibility checker for county plans.

The checker reads only the problem and plan JSON (docs/routing.md section 6)
and recomputes every promise itself: its own clock parsing, great-circle
distances and ride limits, nothing imported from server.planner. The
benchmark (benchmarks/county_transport.py) uses both.
"""

from __future__ import annotations

import math
import random
from typing import Any

DAY = 24 * 3600
DEFAULT_LIMITS = {"primary": 45 * 60, "secondary": 75 * 60}  # the documented defaults
REASONS = {
    "no_vehicle", "deadline_unreachable", "pickup_window_unreachable", "max_ride_time",
    "no_vehicle_capacity", "no_vehicle_time", "no_escort", "no_wheelchair_place",
}  # fmt: skip


def clock(value: Any) -> int:
    if isinstance(value, int):
        return value
    parts = [int(x) for x in value.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl, dp = math.radians(b[1] - a[1]), p2 - p1
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def _matrices(problem: dict[str, Any]) -> tuple[list[list[int]], list[list[int]]]:
    speed = problem.get("speed_kmh", 30)
    if problem.get("durations_s") is not None:
        dur = problem["durations_s"]
        dist = problem.get("distances_m") or [[round(x * speed / 3.6) for x in r] for r in dur]
        return dur, dist
    places = (
        [(s["lat"], s["lon"]) for s in problem["schools"]]
        + [(p["lat"], p["lon"]) for p in problem["pupils"]]
        + [(v["start"]["lat"], v["start"]["lon"]) for v in problem["vehicles"]]
    )
    factor = problem.get("detour_factor", 1.3)
    km = [[_km(a, b) for b in places] for a in places]
    return (
        [[round(x * factor / speed * 3600) for x in row] for row in km],
        [[round(x * factor * 1000) for x in row] for row in km],
    )


def check_county(problem: dict[str, Any], plan: dict[str, Any]) -> None:
    """Assert that `plan` keeps every constraint of `problem`."""
    dur, dist = _matrices(problem)
    schools = {s["id"]: (k, s) for k, s in enumerate(problem["schools"])}
    first = len(problem["schools"])
    pupils = {p["id"]: (first + k, p) for k, p in enumerate(problem["pupils"])}
    first_start = first + len(problem["pupils"])
    vehicles = {v["id"]: (first_start + k, v) for k, v in enumerate(problem["vehicles"])}
    limits = {**DEFAULT_LIMITS, **(problem.get("ride_limits_s") or {})}
    afternoon = problem.get("run") == "afternoon"

    def limit(p: dict[str, Any]) -> int:
        return p.get("max_ride_s") or limits[schools[p["school"]][1].get("phase", "secondary")]

    placed = [i for r in plan["routes"] for s in r["stops"] if s["type"] == "pickup" for i in s["pupils"]]
    left = [u["pupil"] for u in plan["unplaced"]]
    assert sorted(placed + left) == sorted(pupils), "each pupil exactly once"
    assert plan["placed"] == len(placed)
    assert all(u["reason"] in REASONS and u["detail"] for u in plan["unplaced"])
    used = [r["vehicle"] for r in plan["routes"]]
    assert len(set(used)) == len(used)
    assert sorted(used + plan["idle_vehicles"]) == sorted(vehicles)
    vehicle_of = {i: r["vehicle"] for r in plan["routes"] for s in r["stops"] if s["type"] == "pickup"
                  for i in s["pupils"]}  # fmt: skip
    groups: dict[str, set[Any]] = {}
    for pid, (_, p) in pupils.items():
        if p.get("siblings"):
            groups.setdefault(p["siblings"], set()).add(vehicle_of.get(pid))
    assert all(len(g) == 1 for g in groups.values()), "siblings together"

    total_cost = total_travel = total_dist = 0
    for route in plan["routes"]:
        node, v = vehicles[route["vehicle"]]
        available = v["available"]
        t = clock(route["depart"])
        assert t >= clock(available["from"]), "availability"
        aboard: dict[str, int] = {}  # pupil -> boarding done
        travel = distance = 0
        rides: dict[str, int] = {}
        for stop in route["stops"]:
            if "school" in stop:
                k, school = schools[stop["school"]]
                here = k
                assert all(pupils[pid][1]["school"] == stop["school"] for pid in stop["pupils"]), "right school"
            else:
                here = pupils[stop["pupils"][0]][0]
                assert all(pupils[pid][0] == here or pupils[pid][1].get("siblings")
                           for pid in stop["pupils"]), "one pickup point a stop"  # fmt: skip
            assert ("school" in stop) == ((stop["type"] == "drop") != afternoon), "school end of the ride"
            travel += dur[node][here]
            distance += dist[node][here]
            arrival = t + dur[node][here]
            assert clock(stop["arrival"]) == arrival
            start = clock(stop["pickup"] if stop["type"] == "pickup" else stop["drop"])
            assert stop["wait_s"] == start - arrival >= 0
            if stop["type"] == "pickup":
                boarding = 0
                for pid in stop["pupils"]:
                    p = pupils[pid][1]
                    assert pid not in aboard and pid not in rides
                    if afternoon:
                        leaves = clock(schools[p["school"]][1]["leaves_at"])
                        assert leaves <= start <= leaves + 30 * 60, "collected after the school lets out"
                    elif p.get("window"):
                        assert clock(p["window"]["from"]) <= start <= clock(p["window"]["to"]), "window"
                    boarding += p.get("boarding_s", 60)
                t = start + boarding
                assert clock(stop["departure"]) == t
                for pid in stop["pupils"]:
                    aboard[pid] = t
            else:
                for pid in stop["pupils"]:
                    p = pupils[pid][1]
                    if afternoon and p.get("window"):
                        assert clock(p["window"]["from"]) <= start <= clock(p["window"]["to"]), "window"
                    if not afternoon:
                        assert start <= clock(schools[p["school"]][1]["arrive_by"]), "bell"
                    rides[pid] = start - aboard.pop(pid)
                    assert rides[pid] <= limit(p), "ride limit"
                t = start
            on = [pupils[pid][1] for pid in aboard]
            seats = sum(p.get("seats", 0 if p.get("wheelchair") else 1) for p in on)
            chairs = sum(1 for p in on if p.get("wheelchair"))
            assert stop["load"] == {"seats": seats, "wheelchair": chairs}
            assert seats <= v["seats"] and chairs <= v.get("wheelchair_places", 0), "capacity"
            if any(p.get("escort") for p in on):
                assert v.get("escort"), "escort"
            for p in on:
                if p.get("travel_alone"):
                    others = [q for q in on if q is not p and (not p.get("siblings")
                              or q.get("siblings") != p.get("siblings"))]  # fmt: skip
                    assert not others, "travel alone"
            node = here
        assert not aboard, "everyone dropped"
        assert clock(route["end"]) == t <= clock(available.get("to", DAY - 1)), "availability"
        assert route["ride_s"] == rides
        assert route["travel_s"] == travel and route["distance_m"] == distance
        cost = v.get("day_rate", 0) + v.get("per_km", 0) * distance / 1000
        assert abs(route["cost"] - cost) < 0.011
        total_cost += route["cost"]
        total_travel += travel
        total_dist += distance
    assert abs(plan["total_cost"] - total_cost) < 0.011
    assert plan["total_travel_s"] == total_travel and plan["total_distance_m"] == total_dist


def county(seed: int, pupils: int, schools: int, vehicles: int, run: str = "morning") -> dict[str, Any]:
    """A generated county morning around (53.52, -1.13), 40 x 40 km: bells from
    08:30 to 08:50, primary and secondary schools, 8% wheelchair users, some
    escorts, travel-alone pupils, siblings and pickup windows; a mixed fleet of
    taxis, minibuses and accessible vehicles with escorts from four depots."""
    rng = random.Random(seed)
    lat0, lon0 = 53.52, -1.13

    def near(lat: float, lon: float, sd_km: float) -> dict[str, float]:
        return {"lat": round(lat + rng.gauss(0, sd_km) / 111.0, 5),
                "lon": round(lon + rng.gauss(0, sd_km) / 66.0, 5)}  # fmt: skip

    school_list = []
    for k in range(schools):
        where = near(lat0, lon0, 9)
        phase = "primary" if k % 2 else "secondary"
        bell = 8 * 3600 + 30 * 60 + 300 * rng.randint(0, 4)
        school_list.append({"id": f"S{k}", "name": f"School {k}", **where, "phase": phase,
                            "arrive_by": hhmm(bell), "leaves_at": hhmm(bell + 6 * 3600 + 45 * 60)})  # fmt: skip
    pupil_list: list[dict[str, Any]] = []
    while len(pupil_list) < pupils:
        school = rng.choice(school_list)
        primary = school["phase"] == "primary"
        home = near(school["lat"], school["lon"], 3.5 if primary else 6)
        n = 2 if primary and rng.random() < 0.12 and len(pupil_list) + 2 <= pupils else 1
        group = f"G{len(pupil_list)}" if n == 2 else None
        for _ in range(n):
            pid = f"P{len(pupil_list):04d}"
            pupil: dict[str, Any] = {"id": pid, "school": school["id"], **home}
            if rng.random() < 0.08:
                pupil.update(wheelchair=True, boarding_s=180)
            if rng.random() < 0.04:
                pupil["escort"] = True
            if n == 1 and rng.random() < 0.02:
                pupil["travel_alone"] = True
            if group:
                pupil["siblings"] = group
            if rng.random() < 0.1 and run == "afternoon":  # someone is home from then
                opens = clock(school["leaves_at"]) + rng.randint(0, 40) * 60
                pupil["window"] = {"from": hhmm(opens), "to": hhmm(opens + 60 * 60)}
            elif rng.random() < 0.1:
                bell = clock(school["arrive_by"])
                opens = bell - rng.randint(45, 70) * 60
                pupil["window"] = {"from": hhmm(opens), "to": hhmm(opens + 30 * 60)}
            pupil_list.append(pupil)
    depots = [near(lat0, lon0, 12) for _ in range(4)]
    fleet = []
    for k in range(vehicles):
        roll = rng.random()
        if roll < 0.15:
            kind = {"seats": 5, "wheelchair_places": 2, "escort": True, "day_rate": 170, "per_km": 1.8}
        elif roll < 0.5:
            kind = {"seats": 16, "wheelchair_places": 1 if rng.random() < 0.3 else 0,
                    "escort": rng.random() < 0.3, "day_rate": 150, "per_km": 1.6}  # fmt: skip
        else:
            kind = {"seats": 8, "escort": rng.random() < 0.1, "day_rate": 80, "per_km": 1.2}
        start = rng.choice(depots) if rng.random() < 0.6 else near(lat0, lon0, 10)
        hours = {"from": "07:00", "to": "09:30"} if run == "morning" else {"from": "14:30", "to": "17:30"}
        fleet.append({"id": f"V{k:02d}", **kind, "start": start, "available": hours})
    return {"schools": school_list, "pupils": pupil_list, "vehicles": fleet, "speed_kmh": 35, "run": run}
