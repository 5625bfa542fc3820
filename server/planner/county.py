"""plan_county(problem) -> CountyPlan: several schools, pupils' needs and a
mixed fleet in one problem, with every constraint in the solver's model.

Steps: matrices; units (siblings together) with windows set up front from the
bell and the ride limit; each unit tried alone in each vehicle (features,
seats, time), which bars vehicles and names the reason for who fits nowhere;
VROOM on pickup-and-drop shipments under the time budget; every run re-timed
and checked independently of the solver; cheapest insertion of whoever is left
while time lasts. docs/routing.md section 6.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from server.planner import county_search as search
from server.planner.county_keep import kept_steps
from server.planner import vroom_solver
from server.planner.budget import Budget, default_budget
from server.planner.county_model import (
    AFTERNOON,
    NO_ESCORT,
    NO_WHEELCHAIR_PLACE,
    CountyPlan,
    CountyProblem,
    CountyRoute,
    CountyStop,
    CountyUnplaced,
    Load,
)
from server.planner.county_schedule import (
    AFTERNOON_WAIT_S,
    DROP,
    PICKUP,
    Step,
    Unit,
    Wagon,
    make_return_unit,
    make_unit,
    rides,
)
from server.planner.county_search import World
from server.planner.diagnose import clock, minutes
from server.planner.durations import km_matrix
from server.planner.instance import SolverUnavailable
from server.planner.model import (
    DEADLINE_UNREACHABLE,
    MAX_RIDE_TIME,
    NO_VEHICLE,
    NO_VEHICLE_CAPACITY,
    PICKUP_WINDOW_UNREACHABLE,
)

_STAGES = (
    NO_ESCORT,
    NO_WHEELCHAIR_PLACE,
    NO_VEHICLE_CAPACITY,
    DEADLINE_UNREACHABLE,
    PICKUP_WINDOW_UNREACHABLE,
    MAX_RIDE_TIME,
)
DAY = 24 * 3600


def matrices(problem: CountyProblem) -> tuple[list[list[int]], list[list[int]]]:
    """Durations (s) and distances (m) over schools, pupils, vehicle starts."""
    if problem.durations is not None:
        durations = [list(row) for row in problem.durations]
        if problem.distances is not None:
            return durations, [list(row) for row in problem.distances]
        per_s = problem.speed_kmh / 3.6  # metres a second
        return durations, [[round(x * per_s) for x in row] for row in durations]
    locations = (
        [s.location for s in problem.schools]
        + [p.location for p in problem.pupils]
        + [v.start for v in problem.vehicles]
    )
    km = km_matrix([loc for loc in locations if loc is not None])
    factor = problem.detour_factor
    hours = factor / problem.speed_kmh * 3600.0
    return (
        [[round(x * hours) for x in row] for row in km],
        [[round(x * factor * 1000.0) for x in row] for row in km],
    )


def units_of(problem: CountyProblem, durations: Sequence[Sequence[int]]) -> list[Unit]:
    """One unit a pupil, siblings merged: their seats, places and boarding add up,
    their windows intersect, the shortest ride limit holds."""
    schools = problem.school_index()
    groups: dict[str, list[int]] = {}
    order: list[list[int]] = []
    for i, pupil in enumerate(problem.pupils):
        if pupil.siblings:
            if pupil.siblings not in groups:
                groups[pupil.siblings] = []
                order.append(groups[pupil.siblings])
            groups[pupil.siblings].append(i)
        else:
            order.append([i])
    first_pupil = len(problem.schools)
    units = []
    for members in order:
        pupils = [problem.pupils[i] for i in members]
        school = schools[pupils[0].school]
        node = first_pupil + members[0]
        opens = max(p.window.start if p.window else 0 for p in pupils)
        closes = min(p.window.end if p.window else DAY for p in pupils)
        afternoon = problem.run == AFTERNOON
        make = make_return_unit if afternoon else make_unit
        leaves = problem.schools[school].leaves_at
        units.append(
            make(
                members,
                node,
                school,
                (leaves if afternoon else problem.schools[school].arrive_by) or 0,
                sum(p.boarding for p in pupils),
                sum(p.seats for p in pupils),
                sum(p.wheelchair for p in pupils),
                any(p.escort for p in pupils),
                any(p.travel_alone for p in pupils),
                (opens, closes),
                min(problem.ride_limit(p) for p in pupils),
                durations[school][node] if afternoon else durations[node][school],
            )
        )
    return units


def wagons_of(problem: CountyProblem) -> list[Wagon]:
    first = len(problem.schools) + len(problem.pupils)
    return [
        Wagon(first + v, veh.seats, veh.wheelchair_places, veh.escort, veh.available_from,
              veh.available_to)
        for v, veh in enumerate(problem.vehicles)
    ]  # fmt: skip


def alone(
    d: Sequence[Sequence[int]], unit: Unit, wagon: Wagon, label: str
) -> tuple[int, str, int]:
    """(stage, detail, excess) of trying the unit alone in the vehicle;
    stage len(_STAGES) when it fits."""
    if unit.escort and not wagon.escort:
        return 0, f"the pupil needs an escort, {label} has none", 0
    if unit.wheelchair > wagon.wheelchair:
        return 1, f"the pupil needs {unit.wheelchair} wheelchair place(s), {label} has {wagon.wheelchair}", 0
    if unit.seats > wagon.seats:
        return 2, f"the pickup needs {unit.seats} seats, {label} has {wagon.seats}", unit.seats - wagon.seats
    reach = wagon.available_from + d[wagon.start][unit.pickup]
    to_drop = d[unit.pickup][unit.drop]
    if unit.drop != unit.school:
        return _alone_afternoon(reach, to_drop, unit, wagon, label)
    finish = min(unit.drop_by, wagon.available_to)
    direct = reach + unit.boarding + to_drop
    if direct > finish:
        return 3, (f"even straight from its start, {label} reaches school at {clock(direct)}, "
                   f"after {clock(finish)}"), direct - finish  # fmt: skip
    latest = min(unit.window[1], finish - unit.boarding - to_drop)
    if max(reach, unit.window[0]) > latest:
        return 4, (f"{label} cannot board the pupil inside their window "
                   f"({clock(unit.window[0])}-{clock(unit.window[1])}) and still arrive in time"), 0
    if to_drop > unit.ride_limit or max(reach, unit.early) > min(unit.late, latest):
        return 5, (f"the direct ride takes {minutes(to_drop)}; the pupil's limit is "
                   f"{minutes(unit.ride_limit)}"), max(0, to_drop - unit.ride_limit)  # fmt: skip
    return len(_STAGES), "", 0


def _alone_afternoon(reach: int, to_home: int, unit: Unit, wagon: Wagon, label: str) -> tuple[int, str, int]:
    start = max(reach, unit.opens)
    if start > unit.opens + AFTERNOON_WAIT_S:
        return 3, (f"{label} reaches the school at {clock(reach)}, more than "
                   f"{minutes(AFTERNOON_WAIT_S)} after it lets out at {clock(unit.opens)}"), start - unit.late
    home = start + unit.boarding + to_home
    finish = min(unit.window[1], wagon.available_to)
    if home > finish:
        return 3, (f"even straight from school, {label} gets the pupil home at {clock(home)}, "
                   f"after {clock(finish)}"), home - finish  # fmt: skip
    if (to_home > unit.ride_limit or start > min(unit.late, wagon.available_to - unit.boarding - to_home)
            or max(home, unit.drop_from) > min(unit.drop_by, wagon.available_to)):
        return 5, (f"the direct ride takes {minutes(to_home)}; the pupil's limit is "
                   f"{minutes(unit.ride_limit)}"), max(0, to_home - unit.ride_limit)  # fmt: skip
    return len(_STAGES), "", 0


def world_of(problem: CountyProblem) -> tuple[World, dict[int, tuple[str, str]]]:
    """The problem as the search judges it (matrices, units, vehicles, costs
    and which vehicle may take which unit, from trying each unit alone in
    each), and the units no vehicle can take, with the reason."""
    durations, distances = matrices(problem)
    units = units_of(problem, durations)
    wagons = wagons_of(problem)
    labels = [f"vehicle {v.id}" for v in problem.vehicles]
    allowed: list[set[int]] = [set() for _ in wagons]
    unplaced: dict[int, tuple[str, str]] = {}
    for u, unit in enumerate(units):
        tries = [alone(durations, unit, w, labels[v]) for v, w in enumerate(wagons)]
        for v, attempt in enumerate(tries):
            if attempt[0] == len(_STAGES):
                allowed[v].add(u)
        if not tries:
            unplaced[u] = (NO_VEHICLE, "the problem has no vehicles")
        elif not any(t[0] == len(_STAGES) for t in tries):
            stage, detail, _ = max(tries, key=lambda t: (t[0], -t[2]))
            unplaced[u] = (_STAGES[stage], detail)
    costs = [(v.day_rate, v.per_km) for v in problem.vehicles]
    return World(durations, distances, units, wagons, costs, allowed), unplaced


def plan_county(
    problem: CountyProblem,
    *,
    time_budget: float | None = None,
    threads: int | None = None,
    on_first: Callable[[CountyPlan], None] | None = None,
) -> CountyPlan:
    """Plan the county's morning within `time_budget` seconds (default sized to
    the number of pupils). Raises SolverUnavailable without pyvroom.
    `on_first` is given the best plan of the whole-county solves while the
    neighbourhoods still improve on it (a job shows it meanwhile): every
    constraint holds in it, and who is not placed yet has a reason."""
    budget = Budget(default_budget(len(problem.pupils)) if time_budget is None else time_budget)
    threads = threads or min(4, os.cpu_count() or 1)
    world, unplaced = world_of(problem)
    units, wagons, allowed = world.units, world.wagons, world.allowed
    # a re-plan: runs kept as they were while still feasible; the rest is planned around them
    fixed = {v: steps for v, steps in kept_steps(problem, units).items()
             if not {u for _, u in steps} & set(unplaced) and world.timing(v, steps) is not None}
    in_fixed = {u for steps in fixed.values() for _, u in steps}
    active = [u for u in range(len(units)) if u not in unplaced and u not in in_fixed]
    free = World(world.durations, world.distances, units, wagons, world.costs,
                 [set() if v in fixed else a for v, a in enumerate(allowed)])
    everyone = [u for u in range(len(units)) if u not in in_fixed]  # what pyvroom alone would be given
    vehicles = [v for v in range(len(wagons)) if v not in fixed]

    def finished(runs: list[list[Step]], insert: bool) -> CountyPlan:
        """The plan of `runs`: kept runs back in, who is left inserted where cheapest (`insert`,
        while the budget lasts) or given the reason they are not placed."""
        for v, steps in fixed.items():
            runs[v] = list(steps)
        left = dict(unplaced)
        placed = {u for run in runs for kind, u in run if kind == PICKUP}
        for u in sorted(set(active) - placed, key=lambda u: sum(u in a for a in allowed)):
            if insert and time.perf_counter() < budget.until - budget.reserve and search.insert(world, runs, u):
                continue
            left[u] = search.left_over(world, runs, u)
        kept = tuple(problem.vehicles[v].id for v in sorted(fixed) if runs[v] == fixed[v])
        return _plan(problem, world, runs, left, budget, kept)

    first = None if on_first is None else (lambda runs: on_first(finished(runs, insert=False)))
    runs = search.portfolio(free, active, threads, budget, everyone, vehicles, on_first=first)
    return finished(runs, insert=True)


def _plan(
    problem: CountyProblem,
    world: World,
    runs: list[list[Step]],
    unplaced: dict[int, tuple[str, str]],
    budget: Budget,
    kept: tuple[str, ...] = (),
) -> CountyPlan:
    units = world.units
    routes, idle = [], []
    for v, run in enumerate(runs):
        vehicle = problem.vehicles[v]
        timed = world.timing(v, run)
        if timed is None:
            idle.append(vehicle.id)
            continue
        stops: list[CountyStop] = []
        for k, (kind, u) in enumerate(run):
            ids = tuple(problem.pupils[i].id for i in units[u].members)
            load = Load(timed.seats[k], timed.wheelchairs[k])
            unit = units[u]
            at_school = (kind == DROP) == (unit.drop == unit.school)
            place = problem.schools[unit.school].id if at_school else ""
            if kind == DROP:
                if place and stops and stops[-1].kind == "drop" and stops[-1].place == place:
                    ids = stops.pop().pupils + ids  # alighting together at school
                stops.append(CountyStop("drop", place, ids, timed.arrivals[k], timed.starts[k],
                                        timed.starts[k], load))  # fmt: skip
            else:
                stops.append(CountyStop("pickup", place, ids, timed.arrivals[k], timed.starts[k],
                                        timed.starts[k] + unit.boarding, load))  # fmt: skip
        ride = rides(units, run, timed)
        routes.append(
            CountyRoute(
                vehicle_id=vehicle.id,
                departure=timed.departure,
                end=timed.end,
                stops=tuple(stops),
                travel=timed.travel,
                distance=timed.distance,
                cost=round(vehicle.day_rate + vehicle.per_km * timed.distance / 1000.0, 2),
                rides=tuple(
                    (problem.pupils[i].id, ride[u]) for kind, u in run if kind == PICKUP
                    for i in units[u].members
                ),
            )
        )
    left = sorted(
        (i, reason, detail)
        for u, (reason, detail) in unplaced.items()
        for i in units[u].members
    )
    return CountyPlan(
        routes=tuple(routes),
        unplaced=tuple(CountyUnplaced(problem.pupils[i].id, r, dt) for i, r, dt in left),
        idle_vehicles=tuple(idle),
        solver=vroom_solver.name,
        solver_version=vroom_solver.version(),
        solve_seconds=round(budget.elapsed(), 4),
        time_budget=budget.seconds,
        kept=kept,
    )


__all__ = ["SolverUnavailable", "matrices", "plan_county", "units_of", "wagons_of"]
