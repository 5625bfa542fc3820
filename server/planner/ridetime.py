"""Maximum ride time: VROOM and PyVRP have no per-pupil ride limit, so the
planner checks every run after solving and repairs what breaks it.

The repair is a window: a pupil whose boarding ends no earlier than
deadline - max_ride cannot ride longer than max_ride, because the run reaches
school by the deadline. So a violating pupil's boarding window is tightened
to start at deadline - max_ride - boarding, and the problem solved again.
That is a sufficient condition, not an exact one (a run arriving early leaves
room the window does not use); what still violates after the repair rounds is
taken out of its run and reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.planner.instance import Job, RoutingInstance
from server.planner.schedule import Timing


def violations(
    instance: RoutingInstance,
    order: Sequence[int],
    timing: Timing,
    max_ride: int | None,
) -> list[int]:
    """Job indices in `order` whose ride exceeds `max_ride`."""
    if max_ride is None:
        return []
    return [
        index
        for stop, index in enumerate(order)
        if timing.ride(stop, instance.jobs[index].service) > max_ride
    ]


def tightened(job: Job, deadline: int, max_ride: int) -> Job | None:
    """`job` with a window that guarantees a ride <= max_ride; None if impossible.

    Returns the job unchanged when its window already guarantees it.
    """
    early = max(job.early, deadline - max_ride - job.service)
    if early > job.late:
        return None
    if early == job.early:
        return job
    return Job(node=job.node, service=job.service, seats=job.seats, early=early, late=job.late)
