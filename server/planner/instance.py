"""The solver-neutral routing instance both solver adapters take.

A pickup-to-school run: every vehicle leaves its own start node no earlier
than it is available, boards jobs (each occupying some seats, taking some
service time, with a boarding-start window) and ends at the school node by
the deadline. Solvers minimise total driving time and return, per vehicle,
the job indices in visiting order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class SolverUnavailable(RuntimeError):
    """The solver's package cannot be imported here."""


@dataclass(frozen=True)
class Job:
    node: int
    service: int
    seats: int
    early: int  # boarding may start from ...
    late: int  # ... until


@dataclass(frozen=True)
class Fleet:
    start: int  # node
    seats: int
    available_from: int
    # Longest ride a pupil may have in it. No solver models it (the planner
    # repairs it); it only keeps vehicles that differ in it apart.
    max_ride: int | None = None


@dataclass(frozen=True)
class RoutingInstance:
    durations: Sequence[Sequence[int]]
    school: int
    deadline: int
    jobs: tuple[Job, ...]
    vehicles: tuple[Fleet, ...]
    allowed: tuple[frozenset[int], ...]  # per vehicle, the jobs it may take

    def start_nodes(self) -> list[int]:
        """Each vehicle's start, with starts that are the same place as the
        school or an earlier start (identical matrix rows and columns) merged
        into it. Solvers treat a fleet at one place as homogeneous."""
        d = self.durations
        nodes = range(len(d))
        merged: list[int] = []
        seen: list[int] = [self.school]
        for fleet in self.vehicles:
            node = fleet.start
            for other in seen:
                if other == node or all(
                    d[node][x] == d[other][x] and d[x][node] == d[x][other] for x in nodes
                ):
                    node = other
                    break
            else:
                seen.append(node)
            merged.append(node)
        return merged

    @property
    def times_bind(self) -> bool:
        """False when no window and no deadline can ever matter: every run,
        however long, ends before the deadline and every window spans it."""
        if not self.vehicles or not self.jobs:
            return False
        longest_leg = max(max(row) for row in self.durations)
        longest_run = sum(job.service for job in self.jobs) + (len(self.jobs) + 1) * longest_leg
        first = min(fleet.available_from for fleet in self.vehicles)
        last = max(fleet.available_from for fleet in self.vehicles)
        return not (
            last + longest_run <= self.deadline
            and all(job.early <= first and job.late >= self.deadline for job in self.jobs)
        )

    @property
    def restricted(self) -> bool:
        """True when some vehicle may not take some job."""
        every = frozenset(range(len(self.jobs)))
        return any(allowed != every for allowed in self.allowed)


class Solver(Protocol):
    name: str

    def version(self) -> str: ...

    def solve(
        self, instance: RoutingInstance, threads: int, *, timeout: float | None = None
    ) -> list[list[int]]: ...
