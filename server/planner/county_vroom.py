"""The county problem as VROOM sees it: one shipment a unit (pickup at home,
drop at school in the morning; the other way in the afternoon) with its up-front windows, capacity in seats, wheelchair
places and (when someone travels alone) occupancy, an escort skill, and each
vehicle's availability window and costs. VROOM places as many shipments as
it can, then minimises cost: day rate + per km, with driving time as the tie
break, all under the timeout.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from server.planner import vroom_solver
from server.planner.county_schedule import DROP, PICKUP, Step, Unit, Wagon

MONEY = 100_000  # cost units a pound (VROOM's user costs are 32-bit: up to about £42,000)
PER_HOUR = 360  # an hour's driving costs 360 units (0.36p): only breaks ties between equal costs
ALONE = 1_000  # occupancy of a pupil travelling alone; everyone else takes 1
ESCORT_SKILL = 1
FIRST_UNIT_SKILL = 2  # unit u is skill FIRST_UNIT_SKILL + u where some vehicle may not take it


class RouteRefused(Exception):
    """VROOM refused an initial route (it found it infeasible)."""


def solve(
    durations: Sequence[Sequence[int]],
    distances: Sequence[Sequence[int]],
    units: Sequence[Unit],
    wagons: Sequence[Wagon],
    costs: Sequence[tuple[float, float]],
    allowed: Sequence[set[int]],
    active: Sequence[int],
    threads: int,
    timeout: float,
    level: int | None = None,
    plain: Sequence[int] | None = None,
    initial: Sequence[Sequence[Step]] | None = None,
    searches: int | None = None,
    order: int = 0,
    only: Sequence[int] | None = None,
) -> tuple[list[list[Step]], float]:
    """Steps per vehicle, in visiting order (units VROOM left out are absent),
    and the seconds VROOM's own solve took (building its input excluded).
    `level`: VROOM's exploration level (default by problem size).

    `plain`: the vehicles of the plain model, the one a user would write with
    pyvroom directly: no vehicle barred up front (no unit skills; `allowed`
    is not used) and, in the morning, the drop by the bell and boarding from
    `bell - ride limit - boarding` to `bell - boarding` within the pupil's
    window (a pupil whose window closes before that is left out).
    `initial`: runs per vehicle VROOM's search starts from instead of its
    construction heuristics; RouteRefused when VROOM finds one infeasible.
    `searches`: run only VROOM's first so many searches (its own choice of
    heuristic parameters, in its order) at depth `level`, each with a fair
    share of the timeout (vroom_solver.solve_searches); None: all of the
    level's. `order`: 0 gives VROOM the vehicles and shipments in index
    order; any other number shuffles both with that seed (the same model:
    VROOM's heuristics break ties by that order, so a different order is a
    different start). `only`: just these vehicles (a neighbourhood of the
    planner's model; `allowed` still bars)."""
    vroom = vroom_solver._import()
    import numpy as np

    runs: list[list[Step]] = [[] for _ in wagons]
    if plain is not None:
        usable = list(plain)
    else:
        usable = [v for v in (range(len(wagons)) if only is None else only) if allowed[v]]
    if not active or not usable:
        return runs, 0.0
    if order:
        shuffle = random.Random(order)
        usable, active = shuffle.sample(usable, len(usable)), shuffle.sample(list(active), len(active))
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=np.asarray(durations, dtype=np.uint32))
    problem.set_distances_matrix(profile="car", matrix_input=np.asarray(distances, dtype=np.uint32))
    alone = any(units[u].alone for u in active)
    restricted = plain is None and any(set(active) - allowed[v] for v in usable)
    for v in usable:
        wagon = wagons[v]
        capacity = [wagon.seats, wagon.wheelchair] + ([ALONE] if alone else [])
        skills = {ESCORT_SKILL} if wagon.escort else set()
        if restricted:
            skills |= {FIRST_UNIT_SKILL + u for u in allowed[v]}
        day_rate, per_km = costs[v]
        problem.add_vehicle(
            vroom.Vehicle(
                v,
                start=wagon.start,
                capacity=capacity,
                skills=skills,
                time_window=vroom.TimeWindow(wagon.available_from, wagon.available_to),
                costs=vroom.VehicleCosts(
                    fixed=round(day_rate * MONEY), per_hour=PER_HOUR, per_km=round(per_km * MONEY)
                ),
                steps=_steps(vroom, initial[v]) if initial else (),
            )
        )
    shipments = 0
    for u in active:
        unit = units[u]
        amount = [unit.seats, unit.wheelchair] + ([ALONE if unit.alone else 1] if alone else [])
        skills = {ESCORT_SKILL} if unit.escort else set()
        if restricted:
            skills.add(FIRST_UNIT_SKILL + u)
        if plain is not None:
            early, late, drop_by = plain_windows(unit)
        else:
            early, late, drop_by = unit.early, unit.late, unit.drop_by
        if late < early or drop_by < unit.drop_from:
            continue  # no window at all: left out
        problem.add_shipment(
            vroom.ShipmentStep(
                2 * u,
                unit.pickup,
                default_service=unit.boarding,
                time_windows=[vroom.TimeWindow(early, late)],
            ),
            vroom.ShipmentStep(
                2 * u + 1,
                unit.drop,
                time_windows=[vroom.TimeWindow(unit.drop_from, drop_by)],
            ),
            amount=vroom.Amount(amount),
            skills=skills,
        )
        shipments += 1
    if not shipments:
        return runs, 0.0
    started = time.perf_counter()
    try:
        depth = vroom_solver.exploration_level(len(active)) if level is None else level
        if searches is None:
            solution = problem.solve(
                exploration_level=depth, nb_threads=threads, timeout=vroom_solver.timeout_of(timeout)
            )
        else:
            solution = vroom_solver.solve_searches(problem, searches, depth, threads, timeout)
    except vroom._vroom.VroomInputException as exc:
        if not initial:
            raise
        raise RouteRefused(str(exc)) from exc
    took = time.perf_counter() - started
    frame = solution.routes
    for vehicle, kind, ident in zip(frame["vehicle_id"], frame["type"], frame.get("id", [])):
        if kind in ("pickup", "delivery"):
            runs[int(vehicle)].append((PICKUP if kind == "pickup" else DROP, int(ident) // 2))
    return runs, took


def plain_windows(unit: Unit) -> tuple[int, int, int]:
    """(boarding from, boarding by, drop by) of the unit in the plain model,
    as a user would write it: in the morning the drop by the bell and
    boarding from `bell - ride limit - boarding` to `bell - boarding` within
    the pupil's window; the afternoon as in the planner's model."""
    if unit.drop != unit.school:
        return unit.early, unit.late, unit.drop_by
    early = max(unit.window[0], unit.bell - unit.ride_limit - unit.boarding)
    return early, min(unit.window[1], unit.bell - unit.boarding), unit.bell


def in_plain(unit: Unit) -> bool:
    """Whether the plain model has the unit (it leaves out one whose window
    closes before its ride could start)."""
    early, late, drop_by = plain_windows(unit)
    return early <= late and drop_by >= unit.drop_from


def _steps(vroom, run: Sequence[Step]) -> list:
    """A run as VROOM's vehicle steps (an initial route)."""
    if not run:
        return []
    kinds = {PICKUP: "pickup", DROP: "delivery"}
    return [vroom.VehicleStep("start")] + [vroom.VehicleStep(kinds[kind], 2 * u + kind) for kind, u in run]
