"""Tests of the PostgreSQL store (marker ``pg``): a throwaway cluster for the session, and the
engine's memory-store tests run against PostgreSQL by handing them a ``PgTestStore`` where they
make a ``MemoryStore``. Skipped, with the reason, where PostgreSQL or psycopg is not installed."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import cluster

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.pg)


@pytest.fixture(scope="session")
def pg_url(pg_cluster: cluster.Cluster) -> str:
    """A database with the engine's schema, shared by the session's tests (each resets it)."""
    import psycopg

    from server.pg import PgDatabase

    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE doorstep_test")
    url = pg_cluster.url("doorstep_test")
    db = PgDatabase(url)
    db.migrate()
    db.close()
    return url


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Callable[[], object]]:
    """A factory of empty stores over the shared database (one at a time: a new one empties it)."""
    from .inspect_store import PgTestStore

    made: list[PgTestStore] = []

    def make() -> PgTestStore:
        for old in made:
            old.close()
        store = PgTestStore(pg_url)
        store.reset()
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def on_postgres(pg_store: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's tests (tests/sync) make a PostgreSQL store where they make a memory store."""
    import tests.sync.test_convergence
    import tests.sync.test_store
    import tests.sync.world

    for module in (tests.sync.world, tests.sync.test_store, tests.sync.test_convergence):
        monkeypatch.setattr(module, "MemoryStore", pg_store)
