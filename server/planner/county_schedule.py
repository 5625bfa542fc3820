"""The county planner's units and the timing of one vehicle's run.

A *unit* is what a solver places: one pupil, or siblings travelling together
(one pickup, one drop). Its windows are set up front so that any run keeping
them keeps the unit's ride limit R. Morning: boarding at home starts no
earlier than `drop_by - R - boarding`, and the drop at school is no later
than `drop_by` (the bell, or earlier when the pupil's own window closes
early). Afternoon: boarding at school starts no earlier than the school lets
out, `leaves`, and the drop at home is no later than `leaves + boarding + R`
(or the pupil's window's end).

A run is a list of steps, (PICKUP, unit) and (DROP, unit). `timing` times it
in three passes as schedule.py does for one school: backward for the latest
departure, forward from it waiting only for windows to open, and backward
again so every boarding is as late as the drops after it allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PICKUP, DROP = 0, 1
Step = tuple[int, int]  # (PICKUP or DROP, unit index)


AFTERNOON_WAIT_S = 30 * 60  # afternoon: pupils are collected within this long of the school letting out


@dataclass(frozen=True)
class Unit:
    members: tuple[int, ...]  # pupil indices
    pickup: int  # node: home in the morning, the school in the afternoon
    drop: int  # node: the school in the morning, home in the afternoon
    school: int  # school index (= its node)
    boarding: int  # service at the pickup
    seats: int
    wheelchair: int
    escort: bool
    alone: bool
    window: tuple[int, int]  # the pupils' own window (intersection): boarding (morning), arriving home (afternoon)
    ride_limit: int
    opens: int  # the pickup starts no earlier: 0 (morning), the school letting out (afternoon)
    early: int  # pickup window set up front: ride limit and window
    late: int
    drop_from: int  # the drop starts no earlier
    drop_by: int  # ... and no later
    bell: int = 0  # morning: the school's bell; afternoon: when it lets out

    @property
    def home(self) -> int:
        return self.drop if self.drop != self.school else self.pickup


@dataclass(frozen=True)
class Wagon:
    """A vehicle as the timing sees it."""

    start: int  # node
    seats: int
    wheelchair: int
    escort: bool
    available_from: int
    available_to: int


@dataclass(frozen=True)
class RunTiming:
    departure: int
    arrivals: tuple[int, ...]  # per step
    starts: tuple[int, ...]  # per step: boarding starts (pickup); arrival (drop)
    seats: tuple[int, ...]  # on board after each step
    wheelchairs: tuple[int, ...]
    end: int
    travel: int
    distance: int


def make_unit(
    members: Sequence[int],
    node: int,
    school: int,
    bell: int,
    boarding: int,
    seats: int,
    wheelchair: int,
    escort: bool,
    alone: bool,
    window: tuple[int, int],
    ride_limit: int,
    direct: int,
) -> Unit:
    """A morning unit (home to school) with its up-front windows; `direct` is
    the drive home -> school."""
    drop_by = min(bell, window[1] + boarding + ride_limit)
    early = max(window[0], drop_by - ride_limit - boarding)
    late = min(window[1], drop_by - boarding - direct)
    return Unit(
        tuple(members), node, school, school, boarding, seats, wheelchair, escort, alone,
        window, ride_limit, 0, early, late, 0, drop_by, bell,
    )  # fmt: skip


def make_return_unit(
    members: Sequence[int],
    home: int,
    school: int,
    leaves: int,
    boarding: int,
    seats: int,
    wheelchair: int,
    escort: bool,
    alone: bool,
    window: tuple[int, int],
    ride_limit: int,
    direct: int,
) -> Unit:
    """An afternoon unit (school to home): boarding at school from `leaves`
    (within AFTERNOON_WAIT_S), home by `leaves + boarding + ride_limit` and
    inside the pupil's window; `direct` is the drive school -> home."""
    drop_by = min(window[1], leaves + boarding + ride_limit)
    late = min(leaves + AFTERNOON_WAIT_S, drop_by - boarding - direct)
    return Unit(
        tuple(members), school, home, school, boarding, seats, wheelchair, escort, alone,
        window, ride_limit, leaves, leaves, late, window[0], drop_by, leaves,
    )  # fmt: skip


def timing(
    durations: Sequence[Sequence[int]],
    distances: Sequence[Sequence[int]],
    units: Sequence[Unit],
    wagon: Wagon,
    steps: Sequence[Step],
) -> RunTiming | None:
    """The latest-shifted timing of `steps` on `wagon`; None when infeasible
    (capacity, features, travelling alone, a window, a drop deadline, the
    vehicle's availability or a pickup after its drop)."""
    if not steps:
        return None
    d = durations
    nodes, services, earlies, lates = [], [], [], []
    seats = wheel = 0
    aboard: set[int] = set()
    alone = False
    loads_s, loads_w = [], []
    for kind, u in steps:
        unit = units[u]
        if kind == PICKUP:
            if u in aboard or (unit.escort and not wagon.escort) or alone:
                return None
            if unit.alone and aboard:
                return None
            aboard.add(u)
            alone = unit.alone
            seats += unit.seats
            wheel += unit.wheelchair
            if seats > wagon.seats or wheel > wagon.wheelchair:
                return None
            nodes.append(unit.pickup)
            services.append(unit.boarding)
            earlies.append(unit.early)
            lates.append(unit.late)
        else:
            if u not in aboard:
                return None
            aboard.discard(u)
            alone = False if unit.alone else alone
            seats -= unit.seats
            wheel -= unit.wheelchair
            nodes.append(unit.drop)
            services.append(0)
            earlies.append(unit.drop_from)
            lates.append(unit.drop_by)
        loads_s.append(seats)
        loads_w.append(wheel)
    if aboard:
        return None
    n = len(steps)
    # Pass 1: latest starts, backward from the vehicle's end of availability.
    latest = [0] * n
    bound, prev = wagon.available_to, None
    for k in range(n - 1, -1, -1):
        after = bound if prev is None else bound - d[nodes[k]][prev]
        latest[k] = min(lates[k], after - services[k])
        bound, prev = latest[k], nodes[k]
    leave = latest[0] - d[wagon.start][nodes[0]]
    if leave < wagon.available_from:
        return None
    # Pass 2: forward from the latest departure.
    starts = [0] * n
    clock, node = leave, wagon.start
    for k in range(n):
        starts[k] = max(clock + d[node][nodes[k]], earlies[k])
        if starts[k] > latest[k]:
            return None
        clock, node = starts[k] + services[k], nodes[k]
    # Pass 3: each boarding as late as what follows allows (drops stay put).
    for k in range(n - 2, -1, -1):
        if steps[k][0] == PICKUP:
            starts[k] = min(lates[k], starts[k + 1] - services[k] - d[nodes[k]][nodes[k + 1]])
    departure = starts[0] - d[wagon.start][nodes[0]]
    arrivals = [starts[0]]
    travel, distance = d[wagon.start][nodes[0]], distances[wagon.start][nodes[0]]
    for k in range(1, n):
        arrivals.append(starts[k - 1] + services[k - 1] + d[nodes[k - 1]][nodes[k]])
        travel += d[nodes[k - 1]][nodes[k]]
        distance += distances[nodes[k - 1]][nodes[k]]
    return RunTiming(
        departure=departure,
        arrivals=tuple(arrivals),
        starts=tuple(starts),
        seats=tuple(loads_s),
        wheelchairs=tuple(loads_w),
        end=starts[-1] + services[-1],
        travel=travel,
        distance=distance,
    )


def rides(units: Sequence[Unit], steps: Sequence[Step], run: RunTiming) -> dict[int, int]:
    """Unit -> ride seconds: boarding done to the drop (any wait before it included)."""
    boarded: dict[int, int] = {}
    out: dict[int, int] = {}
    for k, (kind, u) in enumerate(steps):
        if kind == PICKUP:
            boarded[u] = run.starts[k] + units[u].boarding
        else:
            out[u] = run.starts[k] - boarded[u]
    return out
