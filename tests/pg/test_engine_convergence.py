"""tests/sync/test_convergence.py's property, run against the PostgreSQL store: devices editing
offline through a faulty network converge, and nothing is lost or applied twice."""
from __future__ import annotations

import pytest

from tests.sync import test_convergence


@pytest.mark.slow
def test_devices_converge_and_nothing_is_lost_on_postgres(on_postgres: None) -> None:
    # the property with its own settings and examples; every example makes a fresh store
    test_convergence.test_devices_converge_and_nothing_is_lost()
