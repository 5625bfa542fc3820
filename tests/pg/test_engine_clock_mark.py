"""tests/sync/test_clock_mark.py, run against the PostgreSQL store."""
from __future__ import annotations

import pytest

from tests.sync.test_clock_mark import *  # noqa: F403 (the tests and their helpers)

pytestmark = pytest.mark.usefixtures("on_postgres")
