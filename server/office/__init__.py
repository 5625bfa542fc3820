"""The office pages at ``/office/``: server-rendered pages for office and admin staff.

``routes`` is what ``server.app`` mounts. This package is the shell: the shared
page machinery (sign-in check, CSRF, templates) is in ``pages.py``, with the
templates, static files, labels and CSV helpers; a feature with its own package
keeps its pages there (``server.identity.pages``, ``server.register.pages``).
"""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..casework import legal_pages, legal_setup_pages, people_pages, plans_pages, targeting_pages
from ..identity import pages as identity_pages
from ..ops import pages as ops_pages
from ..register import import_pages as imports
from ..register import pages as register_pages
from ..register import code_usage_pages, improvement_pages, roll_pages
from ..relationships import checkins_pages, wellbeing_pages
from ..relationships import pages as praise_pages
from ..sync_api import pages as conflicts
from ..transport import pages as transport_pages
from . import audit_pages, cases, exports, overview, visits
from .pages import error_page

STATIC = Path(__file__).parent / "static"


async def _to_office(request: Request) -> Response:
    return RedirectResponse("/office/", status_code=308)


async def _not_found(request: Request) -> Response:
    return error_page(request, 404, "Page not found", "There is no office page at this address.")


routes: list[BaseRoute] = [
    Route("/office", _to_office),
    *identity_pages.routes, *overview.routes, *visits.routes, *conflicts.routes, *register_pages.routes,
    *cases.routes, *imports.routes, *roll_pages.routes, *exports.routes, *transport_pages.routes,
    *audit_pages.routes, *ops_pages.routes,
    # casework (the 2024 guidance) and relationship work
    *targeting_pages.routes, *legal_pages.routes, *legal_setup_pages.routes, *plans_pages.routes,
    *people_pages.routes, *praise_pages.routes, *checkins_pages.routes, *wellbeing_pages.routes,
    *improvement_pages.routes, *code_usage_pages.routes,
    Mount("/office/static", app=StaticFiles(directory=STATIC), name="office-static"),
    Route("/office/{rest:path}", _not_found, methods=["GET", "POST", "HEAD"]),
]

__all__ = ["routes"]
