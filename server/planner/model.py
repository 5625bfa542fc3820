"""The planner's vocabulary: a school-run problem in, a plan out.

Times are whole seconds since midnight on the day of the run; durations are
whole seconds. docs/routing.md describes the JSON form of both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Why a pupil could not be placed (Unplaced.reason); docs/routing.md explains each.
NO_VEHICLE = "no_vehicle"
DEADLINE_UNREACHABLE = "deadline_unreachable"
PICKUP_WINDOW_UNREACHABLE = "pickup_window_unreachable"
MAX_RIDE_TIME = "max_ride_time"
NO_VEHICLE_CAPACITY = "no_vehicle_capacity"
NO_VEHICLE_TIME = "no_vehicle_time"
REASONS = (
    NO_VEHICLE,
    DEADLINE_UNREACHABLE,
    PICKUP_WINDOW_UNREACHABLE,
    MAX_RIDE_TIME,
    NO_VEHICLE_CAPACITY,
    NO_VEHICLE_TIME,
)

DEFAULT_DETOUR_FACTOR = 1.3
DEFAULT_SPEED_KMH = 30.0
DEFAULT_BOARDING_S = 60


class ProblemError(ValueError):
    """The problem is malformed or inconsistent; the message says where."""


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ProblemError(f"latitude {self.lat!r} is not within -90..90")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ProblemError(f"longitude {self.lon!r} is not within -180..180")


@dataclass(frozen=True)
class Window:
    """When boarding may start: start <= pickup <= end."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ProblemError(f"window starts ({self.start}) after it ends ({self.end})")


@dataclass(frozen=True)
class School:
    location: Location | None
    arrive_by: int
    name: str = ""


@dataclass(frozen=True)
class Pupil:
    id: str
    location: Location | None
    boarding: int = DEFAULT_BOARDING_S
    window: Window | None = None
    seats: int = 1  # seats this pickup occupies (2 for a wheelchair space, say)


@dataclass(frozen=True)
class Vehicle:
    id: str
    seats: int
    start: Location | None
    available_from: int
    max_ride: int | None = None  # longest any pupil may ride in it, seconds


@dataclass(frozen=True)
class Problem:
    """A morning run: get pupils from home to one school before it closes the register.

    `durations`, when given, replaces the geodesic estimate: a square matrix
    of whole seconds over the nodes school, pupils (in order), vehicle starts
    (in order). Without it every location is required.
    """

    school: School
    pupils: tuple[Pupil, ...]
    vehicles: tuple[Vehicle, ...]
    detour_factor: float = DEFAULT_DETOUR_FACTOR
    speed_kmh: float = DEFAULT_SPEED_KMH
    durations: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pupils", tuple(self.pupils))
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        if self.durations is not None:
            object.__setattr__(self, "durations", _square(self.durations, self.node_count))
        _validate(self)

    @property
    def node_count(self) -> int:
        return 1 + len(self.pupils) + len(self.vehicles)


def _square(matrix: Sequence[Sequence[int]], size: int) -> tuple[tuple[int, ...], ...]:
    rows = tuple(tuple(row) for row in matrix)
    if len(rows) != size or any(len(row) != size for row in rows):
        raise ProblemError(
            f"durations must be a {size}x{size} matrix "
            "(school, then each pupil, then each vehicle start)"
        )
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ProblemError(f"durations[{i}][{j}] must be a whole number of seconds >= 0")
    return rows


def _validate(problem: Problem) -> None:
    if not (math.isfinite(problem.detour_factor) and problem.detour_factor >= 1.0):
        raise ProblemError("detour_factor must be a number >= 1")
    if not (math.isfinite(problem.speed_kmh) and problem.speed_kmh > 0):
        raise ProblemError("speed_kmh must be a number > 0")
    if problem.school.arrive_by < 0:
        raise ProblemError("arrive_by must be a time of day (seconds >= 0)")
    need_locations = problem.durations is None
    if need_locations and problem.school.location is None:
        raise ProblemError("school needs a location (or give a durations matrix)")
    _unique("pupil", [pupil.id for pupil in problem.pupils])
    _unique("vehicle", [vehicle.id for vehicle in problem.vehicles])
    for pupil in problem.pupils:
        if need_locations and pupil.location is None:
            raise ProblemError(f"pupil {pupil.id!r} needs a location")
        if pupil.boarding < 0:
            raise ProblemError(f"pupil {pupil.id!r}: boarding time must be >= 0")
        if pupil.seats < 1:
            raise ProblemError(f"pupil {pupil.id!r}: seats must be >= 1")
        if pupil.window is not None and pupil.window.start < 0:
            raise ProblemError(f"pupil {pupil.id!r}: window must be a time of day")
    for vehicle in problem.vehicles:
        if need_locations and vehicle.start is None:
            raise ProblemError(f"vehicle {vehicle.id!r} needs a start location")
        if vehicle.seats < 1:
            raise ProblemError(f"vehicle {vehicle.id!r}: seats must be >= 1")
        if vehicle.available_from < 0:
            raise ProblemError(f"vehicle {vehicle.id!r}: available_from must be a time of day")
        if vehicle.max_ride is not None and vehicle.max_ride <= 0:
            raise ProblemError(f"vehicle {vehicle.id!r}: max ride time must be > 0")


@dataclass(frozen=True)
class Stop:
    pupil_id: str
    arrival: int  # the vehicle reaches the door
    wait: int  # seconds between arrival and boarding
    pickup: int  # boarding starts
    departure: int  # boarding done, vehicle leaves
    load: int  # seats taken after this pickup
    ride: int  # departure to school arrival, seconds


@dataclass(frozen=True)
class Route:
    vehicle_id: str
    departure: int  # leaves its start location
    stops: tuple[Stop, ...]
    school_arrival: int
    travel: int  # seconds spent driving

    @property
    def ride_times(self) -> dict[str, int]:
        return {stop.pupil_id: stop.ride for stop in self.stops}


@dataclass(frozen=True)
class Unplaced:
    pupil_id: str
    reason: str  # one of REASONS
    detail: str  # a sentence for the office


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...]
    unplaced: tuple[Unplaced, ...]
    idle_vehicles: tuple[str, ...]
    deadline: int
    solver: str  # what made the routes: "vroom", "pyvrp" or "vroom+pyvrp"
    solver_version: str  # "1.15.2", or "1.15.2+0.14.1" for "vroom+pyvrp"
    solve_seconds: float  # wall time of the whole plan() call
    fallback_reason: str | None = None  # why the default solver did not run

    @property
    def total_travel(self) -> int:
        return sum(route.travel for route in self.routes)

    @property
    def placed(self) -> dict[str, str]:
        """Pupil id -> vehicle id."""
        return {stop.pupil_id: r.vehicle_id for r in self.routes for stop in r.stops}


def _unique(kind: str, ids: Sequence[str]) -> None:
    """Every id given and none twice (ProblemError naming the first that is not)."""
    seen: set[str] = set()
    for ident in ids:
        if not ident:
            raise ProblemError(f"every {kind} needs a non-empty id")
        if ident in seen:
            raise ProblemError(f"{kind} id {ident!r} appears twice")
        seen.add(ident)
