from __future__ import annotations

from server.planner.instance import Fleet, Job, RoutingInstance

# school 0, pupil 1, starts 2 (= the school's place), 3 and 4 (the same place)
D = [
    [0, 5, 0, 7, 7],
    [5, 0, 5, 3, 3],
    [0, 5, 0, 7, 7],
    [7, 3, 7, 0, 0],
    [7, 3, 7, 0, 0],
]


def instance(deadline: int, early: int = 0, late: int | None = None) -> RoutingInstance:
    fleets = tuple(Fleet(start=node, seats=2, available_from=100) for node in (2, 3, 4))
    return RoutingInstance(
        durations=D,
        school=0,
        deadline=deadline,
        jobs=(Job(1, 10, 1, early, deadline if late is None else late),),
        vehicles=fleets,
        allowed=(frozenset({0}),) * 3,
    )


def test_vehicles_at_one_place_share_a_start_node():
    assert instance(1000).start_nodes() == [0, 3, 3]


def test_times_bind_only_when_a_window_or_the_deadline_could_matter():
    assert not instance(1000).times_bind
    assert instance(100 + 10 + 2 * 7 - 1).times_bind
    assert instance(1000, early=200).times_bind
    assert instance(1000, late=500).times_bind
