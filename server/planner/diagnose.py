"""Why a pupil cannot be placed.

Before solving, each (pupil, vehicle) pair is tried alone: the vehicle
drives from its start to the pupil and straight to school. Checks run in the
order deadline, window, ride, seats; a pupil no vehicle can take alone gets
the reason of the check that stopped the vehicle that got furthest. After
solving, a pupil some vehicle could take alone but who is left over is either
short of seats or short of time in the runs as planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.planner.instance import Job, RoutingInstance
from server.planner.model import (
    DEADLINE_UNREACHABLE,
    MAX_RIDE_TIME,
    NO_VEHICLE,
    NO_VEHICLE_CAPACITY,
    NO_VEHICLE_TIME,
    PICKUP_WINDOW_UNREACHABLE,
    Unplaced,
)

_STAGES = (DEADLINE_UNREACHABLE, PICKUP_WINDOW_UNREACHABLE, MAX_RIDE_TIME, NO_VEHICLE_CAPACITY)


def clock(seconds: int) -> str:
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def minutes(seconds: int) -> str:
    return f"{seconds / 60:.0f} min" if seconds % 60 == 0 else f"{seconds / 60:.1f} min"


@dataclass(frozen=True)
class Alone:
    """Result of trying one pupil alone in one vehicle."""

    ok: bool
    stage: int  # index into _STAGES of the failed check; len(_STAGES) when ok
    detail: str
    excess: int = 0  # how far off, in seconds or seats, for ranking vehicles


def alone(
    instance: RoutingInstance, job: Job, vehicle: int, max_ride: int | None, label: str
) -> Alone:
    fleet = instance.vehicles[vehicle]
    d = instance.durations
    to_pupil = d[fleet.start][job.node]
    to_school = d[job.node][instance.school]
    direct = fleet.available_from + to_pupil + job.service + to_school
    if direct > instance.deadline:
        return Alone(
            False,
            0,
            f"even straight from its start, {label} reaches school at {clock(direct)}, "
            f"after the {clock(instance.deadline)} deadline",
            direct - instance.deadline,
        )
    earliest = max(fleet.available_from + to_pupil, job.early)
    latest = min(job.late, instance.deadline - job.service - to_school)
    if earliest > latest:
        if fleet.available_from + to_pupil > job.late:
            why = f"{label} cannot reach the pupil before the window closes at {clock(job.late)}"
        else:
            why = (
                f"boarding at {clock(job.early)}, when the window opens, is too late to "
                f"reach school by {clock(instance.deadline)}"
            )
        return Alone(False, 1, why, earliest - latest)
    if max_ride is not None and to_school > max_ride:
        return Alone(
            False,
            2,
            f"the direct ride to school takes {minutes(to_school)}, longer than "
            f"{label}'s maximum of {minutes(max_ride)}",
            to_school - max_ride,
        )
    if job.seats > fleet.seats:
        return Alone(
            False,
            3,
            f"the pickup needs {job.seats} seats, {label} has {fleet.seats}",
            job.seats - fleet.seats,
        )
    return Alone(True, len(_STAGES), "")


def unreachable(pupil_id: str, tries: Sequence[Alone]) -> Unplaced:
    """The reason for a pupil no vehicle can take even alone."""
    if not tries:
        return Unplaced(pupil_id, NO_VEHICLE, "the problem has no vehicles")
    furthest = max(tries, key=lambda t: (t.stage, -t.excess))
    return Unplaced(pupil_id, _STAGES[furthest.stage], furthest.detail)


def left_over(
    pupil_id: str,
    job: Job,
    candidates: Sequence[int],
    used_seats: Sequence[int],
    instance: RoutingInstance,
    ride_limited: int | None,
) -> Unplaced:
    """The reason for a pupil some vehicle could take alone but none took.

    `ride_limited` is the max ride that made the planner tighten or drop this
    pupil, if it did.
    """
    if ride_limited is not None:
        return Unplaced(
            pupil_id,
            MAX_RIDE_TIME,
            f"no run could take this pupil without a ride longer than {minutes(ride_limited)}",
        )
    full = [v for v in candidates if used_seats[v] + job.seats > instance.vehicles[v].seats]
    if len(full) == len(candidates):
        return Unplaced(
            pupil_id,
            NO_VEHICLE_CAPACITY,
            f"every vehicle that can reach this pupil in time is full ({len(full)} checked)",
        )
    return Unplaced(
        pupil_id,
        NO_VEHICLE_TIME,
        "the vehicles with a free seat cannot fit this pickup in without "
        "someone missing the deadline or a pickup window",
    )
