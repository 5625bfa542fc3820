"""tests/sync/test_ladder.py, run against the PostgreSQL store."""
from __future__ import annotations

import pytest

from tests.sync.test_ladder import *  # noqa: F403 (the tests and their fixtures)

pytestmark = pytest.mark.usefixtures("on_postgres")
