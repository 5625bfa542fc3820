from __future__ import annotations

from server.planner.instance import Fleet, Job, RoutingInstance
from server.planner.schedule import schedule

# school 0, pupils at nodes 1 and 2, the car starts at node 3; minutes on a line.
POSITIONS = [0, -10, -5, -20]
D = [[abs(a - b) * 60 for b in POSITIONS] for a in POSITIONS]


def instance(jobs: list[Job], seats: int = 3, available_from: int = 0) -> RoutingInstance:
    return RoutingInstance(
        durations=D,
        school=0,
        deadline=3600,
        jobs=tuple(jobs),
        vehicles=(Fleet(start=3, seats=seats, available_from=available_from),),
        allowed=(frozenset(range(len(jobs))),),
    )


def test_runs_end_at_the_deadline_when_nothing_holds_them_earlier():
    inst = instance([Job(1, 60, 1, 0, 3600), Job(2, 60, 1, 0, 3600)])
    timing = schedule(inst, 0, [0, 1])
    assert timing is not None
    assert timing.school_arrival == 3600
    assert timing.pickups == (3600 - 300 - 60 - 300 - 60, 3600 - 300 - 60)
    assert timing.departure == timing.pickups[0] - 600
    assert timing.travel == 20 * 60
    assert timing.loads == (1, 2)


def test_infeasible_orders_and_loads_give_none():
    both = [Job(1, 60, 2, 0, 3600), Job(2, 60, 2, 0, 3600)]
    assert schedule(instance(both, seats=3), 0, [0, 1]) is None  # 4 seats needed
    assert schedule(instance(both, seats=4), 0, [0, 1]) is not None
    late_start = instance([Job(1, 60, 1, 0, 3600)], available_from=3600 - 1200)
    assert schedule(late_start, 0, [0]) is None  # 20 min of driving + 1 min boarding
    closed = instance([Job(1, 60, 1, 0, 500)])
    assert schedule(closed, 0, [0]) is None  # cannot reach the door by 500 s
    assert schedule(instance([]), 0, []) is None
