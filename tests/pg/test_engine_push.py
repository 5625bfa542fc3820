"""tests/sync/test_push.py, run against the PostgreSQL store."""
from __future__ import annotations

import pytest

from tests.sync.test_push import *  # noqa: F403 (the tests and their fixtures)

pytestmark = pytest.mark.usefixtures("on_postgres")
