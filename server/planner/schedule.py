"""Timing one vehicle's run, shifted as late as its slack allows.

Given the order of pickups, three passes:

1. backward from the deadline: the latest each boarding may start so that
   every later window and the deadline still hold; that fixes the latest
   departure from the vehicle's start;
2. forward from that departure, waiting only where a window has not opened:
   the earliest school arrival for a run that leaves so late;
3. backward from that school arrival: each boarding as late as it can be,
   so nobody sits in the vehicle longer than the order forces.

The result minimises every pupil's ride time for the given order (a later
start never lengthens a ride, and pass 3 moves every unavoidable wait before
the boarding it precedes). None when the order is infeasible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.planner.instance import RoutingInstance


@dataclass(frozen=True)
class Timing:
    departure: int  # leaves the start node
    arrivals: tuple[int, ...]  # per stop: vehicle at the door
    pickups: tuple[int, ...]  # per stop: boarding starts
    loads: tuple[int, ...]  # per stop: seats taken after boarding
    school_arrival: int
    travel: int  # driving seconds, start to school

    def ride(self, stop: int, service: int) -> int:
        return self.school_arrival - (self.pickups[stop] + service)


def schedule(instance: RoutingInstance, vehicle: int, order: Sequence[int]) -> Timing | None:
    """Latest-shifted, ride-minimal timing of `order` (job indices) on `vehicle`."""
    if not order:
        return None
    fleet = instance.vehicles[vehicle]
    d = instance.durations
    jobs = [instance.jobs[index] for index in order]

    loads: list[int] = []
    load = 0
    for job in jobs:
        load += job.seats
        loads.append(load)
    if load > fleet.seats:
        return None

    # Pass 1: latest boarding starts from the deadline.
    latest = [0] * len(jobs)
    bound, node = instance.deadline, instance.school
    for i in range(len(jobs) - 1, -1, -1):
        job = jobs[i]
        latest[i] = min(job.late, bound - job.service - d[job.node][node])
        bound, node = latest[i], job.node
    leave = latest[0] - d[fleet.start][jobs[0].node]
    if leave < fleet.available_from:
        return None

    # Pass 2: forward from the latest departure.
    clock, node = leave, fleet.start
    for i, job in enumerate(jobs):
        start = max(clock + d[node][job.node], job.early)
        if start > latest[i]:
            return None
        clock, node = start + job.service, job.node
    school_arrival = clock + d[node][instance.school]
    if school_arrival > instance.deadline:
        return None

    # Pass 3: backward from that school arrival.
    pickups = [0] * len(jobs)
    bound, node = school_arrival, instance.school
    for i in range(len(jobs) - 1, -1, -1):
        job = jobs[i]
        pickups[i] = min(job.late, bound - job.service - d[job.node][node])
        bound, node = pickups[i], job.node

    departure = pickups[0] - d[fleet.start][jobs[0].node]
    arrivals = [pickups[0]]
    travel = d[fleet.start][jobs[0].node]
    for i in range(1, len(jobs)):
        leg = d[jobs[i - 1].node][jobs[i].node]
        arrivals.append(pickups[i - 1] + jobs[i - 1].service + leg)
        travel += leg
    travel += d[jobs[-1].node][instance.school]
    return Timing(
        departure=departure,
        arrivals=tuple(arrivals),
        pickups=tuple(pickups),
        loads=tuple(loads),
        school_arrival=school_arrival,
        travel=travel,
    )
