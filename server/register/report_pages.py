"""What the office's import pages share (import_pages.py for marks, roll_pages.py for the roll):
loading one import's report. Their rejected-rows table is ``server/office/templates/_rejected.html``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..office.pages import PageError, app_state

T = TypeVar("T")


async def load_report(request: Request, load: Callable[[Any, str], T | None], report_id: str, what: str) -> T:
    """``load(state, report_id)`` in a worker thread; when it finds none, the 404 page "There is no
    <what> with that id" (as ``uuid_param`` says of an id that is not one)."""
    data = await run_in_threadpool(load, app_state(request), report_id)
    if data is None:
        raise PageError(404, "Not found", f"There is no {what} with that id.")
    return data
