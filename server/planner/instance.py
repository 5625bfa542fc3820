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


@dataclass(frozen=True)
class RoutingInstance:
    durations: Sequence[Sequence[int]]
    school: int
    deadline: int
    jobs: tuple[Job, ...]
    vehicles: tuple[Fleet, ...]
    allowed: tuple[frozenset[int], ...]  # per vehicle, the jobs it may take

    @property
    def restricted(self) -> bool:
        """True when some vehicle may not take some job."""
        every = frozenset(range(len(self.jobs)))
        return any(allowed != every for allowed in self.allowed)


class Solver(Protocol):
    name: str

    def version(self) -> str: ...

    def solve(self, instance: RoutingInstance, threads: int) -> list[list[int]]: ...
