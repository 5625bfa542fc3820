"""A county's morning: several schools with their own bells, pupils' needs, a
mixed fleet with features and costs, planned in one problem.

Times are whole seconds since midnight; durations whole seconds; money in
pounds. docs/routing.md section 6 describes the JSON form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from server.planner.model import (
    DEFAULT_BOARDING_S,
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_SPEED_KMH,
    Location,
    ProblemError,
    Window,
)

PRIMARY, SECONDARY = "primary", "secondary"
MORNING, AFTERNOON = "morning", "afternoon"
RUNS = (MORNING, AFTERNOON)
PHASES = (PRIMARY, SECONDARY)
# DfE home-to-school travel guidance: 45 minutes each way for primary, 75 for secondary.
DEFAULT_RIDE_LIMITS_S = {PRIMARY: 45 * 60, SECONDARY: 75 * 60}

# County reasons, beside model.REASONS.
NO_ESCORT = "no_escort"
NO_WHEELCHAIR_PLACE = "no_wheelchair_place"
COUNTY_REASONS = (NO_ESCORT, NO_WHEELCHAIR_PLACE)


@dataclass(frozen=True)
class CountySchool:
    id: str
    location: Location | None
    arrive_by: int | None  # the bell: every pupil for it is dropped at or before (morning)
    phase: str = SECONDARY
    name: str = ""
    leaves_at: int | None = None  # the end of the day: pupils board from then (afternoon)


@dataclass(frozen=True)
class CountyPupil:
    id: str
    school: str  # a CountySchool id
    location: Location | None  # the pickup point
    boarding: int = DEFAULT_BOARDING_S
    window: Window | None = None  # boarding starts within it
    seats: int = 1  # ordinary seats taken (a wheelchair user takes a wheelchair place besides)
    wheelchair: bool = False
    escort: bool = False  # needs a vehicle with an escort (passenger assistant)
    travel_alone: bool = False  # nobody else on board while they are
    siblings: str | None = None  # pupils sharing this group ride in the same vehicle
    max_ride: int | None = None  # seconds; None: the school phase's limit


@dataclass(frozen=True)
class CountyVehicle:
    id: str
    seats: int
    start: Location | None
    available_from: int
    available_to: int  # the run ends (last drop) at or before
    wheelchair_places: int = 0
    escort: bool = False
    day_rate: float = 0.0  # pounds for using the vehicle at all
    per_km: float = 0.0  # pounds a km driven


@dataclass(frozen=True)
class CountyProblem:
    """Node order of `durations` (and `distances`): schools, pupils, vehicle starts."""

    schools: tuple[CountySchool, ...]
    pupils: tuple[CountyPupil, ...]
    vehicles: tuple[CountyVehicle, ...]
    ride_limits: tuple[tuple[str, int], ...] = tuple(DEFAULT_RIDE_LIMITS_S.items())
    detour_factor: float = DEFAULT_DETOUR_FACTOR
    speed_kmh: float = DEFAULT_SPEED_KMH
    durations: tuple[tuple[int, ...], ...] | None = None
    distances: tuple[tuple[int, ...], ...] | None = None  # metres; from durations when absent
    run: str = MORNING  # or AFTERNOON: from school to home
    # runs to keep as they are if still feasible (a re-plan): (vehicle id, ((kind, pupil ids), ...))
    keep: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()

    def __post_init__(self) -> None:
        for name in ("schools", "pupils", "vehicles", "ride_limits"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("durations", "distances"):
            matrix = getattr(self, name)
            if matrix is not None:
                object.__setattr__(self, name, _square(matrix, self.node_count, name))
        if self.distances is not None and self.durations is None:
            raise ProblemError("distances_m needs durations_s too")
        _validate(self)

    @property
    def node_count(self) -> int:
        return len(self.schools) + len(self.pupils) + len(self.vehicles)

    def school_index(self) -> dict[str, int]:
        return {school.id: k for k, school in enumerate(self.schools)}

    def ride_limit(self, pupil: CountyPupil) -> int:
        """The pupil's own limit, else their school phase's."""
        if pupil.max_ride is not None:
            return pupil.max_ride
        school = self.schools[self.school_index()[pupil.school]]
        return dict(self.ride_limits)[school.phase]


def _square(matrix: Sequence[Sequence[int]], size: int, name: str) -> tuple[tuple[int, ...], ...]:
    rows = tuple(tuple(row) for row in matrix)
    if len(rows) != size or any(len(row) != size for row in rows):
        raise ProblemError(
            f"{name} must be a {size}x{size} matrix (schools, then pupils, then vehicle starts)"
        )
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ProblemError(f"{name}[{i}][{j}] must be a whole number >= 0")
    return rows


def _unique(items: Sequence[object], kind: str) -> None:
    seen: set[str] = set()
    for item in items:
        ident = getattr(item, "id")
        if not ident:
            raise ProblemError(f"every {kind} needs a non-empty id")
        if ident in seen:
            raise ProblemError(f"{kind} id {ident!r} appears twice")
        seen.add(ident)


def _validate(problem: CountyProblem) -> None:
    if not (math.isfinite(problem.detour_factor) and problem.detour_factor >= 1.0):
        raise ProblemError("detour_factor must be a number >= 1")
    if not (math.isfinite(problem.speed_kmh) and problem.speed_kmh > 0):
        raise ProblemError("speed_kmh must be a number > 0")
    limits = dict(problem.ride_limits)
    if sorted(limits) != sorted(PHASES) or any(v <= 0 for v in limits.values()):
        raise ProblemError("ride_limits_s needs primary and secondary, each > 0 seconds")
    need_locations = problem.durations is None
    _unique(problem.schools, "school")
    _unique(problem.pupils, "pupil")
    _unique(problem.vehicles, "vehicle")
    if problem.run not in RUNS:
        raise ProblemError("run must be morning or afternoon")
    if not problem.schools:
        raise ProblemError("schools must list at least one school")
    for school in problem.schools:
        if school.phase not in PHASES:
            raise ProblemError(f"school {school.id!r}: phase must be primary or secondary")
        if problem.run == MORNING and (school.arrive_by is None or school.arrive_by < 0):
            raise ProblemError(f"school {school.id!r}: a morning run needs arrive_by")
        if need_locations and school.location is None:
            raise ProblemError(f"school {school.id!r} needs a location (or give durations_s)")
        if problem.run == AFTERNOON and (school.leaves_at is None or school.leaves_at < 0):
            raise ProblemError(f"school {school.id!r}: an afternoon run needs leaves_at")
    schools = problem.school_index()
    groups: dict[str, CountyPupil] = {}
    for pupil in problem.pupils:
        where = f"pupil {pupil.id!r}"
        if pupil.school not in schools:
            raise ProblemError(f"{where}: no school {pupil.school!r}")
        if need_locations and pupil.location is None:
            raise ProblemError(f"{where} needs a location")
        if pupil.boarding < 0 or pupil.seats < 0:
            raise ProblemError(f"{where}: boarding and seats must be >= 0")
        if pupil.seats == 0 and not pupil.wheelchair:
            raise ProblemError(f"{where}: takes no seat and no wheelchair place")
        if pupil.window is not None and pupil.window.start < 0:
            raise ProblemError(f"{where}: window must be a time of day")
        if pupil.max_ride is not None and pupil.max_ride <= 0:
            raise ProblemError(f"{where}: max_ride_s must be > 0")
        if pupil.siblings:
            first = groups.setdefault(pupil.siblings, pupil)
            if first.location != pupil.location:
                raise ProblemError(
                    f"{where}: siblings {pupil.siblings!r} must share one pickup point"
                )
            if first.school != pupil.school:
                raise ProblemError(
                    f"{where}: siblings {pupil.siblings!r} travelling together go to one school"
                )
    for vehicle in problem.vehicles:
        where = f"vehicle {vehicle.id!r}"
        if need_locations and vehicle.start is None:
            raise ProblemError(f"{where} needs a start location")
        if vehicle.seats < 0 or vehicle.wheelchair_places < 0 or (
            vehicle.seats + vehicle.wheelchair_places < 1
        ):
            raise ProblemError(f"{where}: needs at least one seat or wheelchair place")
        if not 0 <= vehicle.available_from <= vehicle.available_to:
            raise ProblemError(f"{where}: availability must run forward from a time of day")
        for name in ("day_rate", "per_km"):
            value = getattr(vehicle, name)
            if not (math.isfinite(value) and value >= 0):
                raise ProblemError(f"{where}: {name} must be a number >= 0")


@dataclass(frozen=True)
class Load:
    seats: int
    wheelchair: int


@dataclass(frozen=True)
class CountyStop:
    kind: str  # "pickup" or "drop"
    place: str  # the school id for a drop, "" for a pickup
    pupils: tuple[str, ...]  # boarding together (siblings) or alighting here
    arrival: int  # the vehicle gets there
    start: int  # boarding starts (pickup); = arrival for a drop
    departure: int  # leaves
    load: Load  # on board after this stop


@dataclass(frozen=True)
class CountyRoute:
    vehicle_id: str
    departure: int  # leaves its start
    end: int  # the last drop
    stops: tuple[CountyStop, ...]
    travel: int  # driving seconds
    distance: int  # metres
    cost: float  # pounds: day rate + per_km x km
    rides: tuple[tuple[str, int], ...]  # (pupil, seconds from boarding done to their drop)


@dataclass(frozen=True)
class CountyUnplaced:
    pupil_id: str
    reason: str
    detail: str


@dataclass(frozen=True)
class CountyPlan:
    routes: tuple[CountyRoute, ...]
    unplaced: tuple[CountyUnplaced, ...]
    idle_vehicles: tuple[str, ...]
    solver: str
    solver_version: str
    solve_seconds: float
    time_budget: float
    kept: tuple[str, ...] = ()  # vehicles whose run was kept from `keep` as it was

    @property
    def total_cost(self) -> float:
        return round(sum(route.cost for route in self.routes), 2)

    @property
    def total_travel(self) -> int:
        return sum(route.travel for route in self.routes)

    @property
    def total_distance(self) -> int:
        return sum(route.distance for route in self.routes)

    @property
    def placed(self) -> dict[str, str]:
        """Pupil id -> vehicle id."""
        return {
            pupil: route.vehicle_id
            for route in self.routes
            for stop in route.stops
            if stop.kind == "pickup"
            for pupil in stop.pupils
        }
