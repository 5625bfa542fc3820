"""The Starlette application: routes, error handlers, static PWA and office pages."""
from __future__ import annotations

import importlib
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .casework import legal_routes as legal
from .compression import Compress
from .config import Settings
from .errors import handlers
from .headers import SecurityHeaders
from .identity import routes as identity
from .jobs import lifespan as run_jobs
from .monitor import ready
from .monitor.access import Monitor
from .pwa_shell import WorkerCache
from .register import routes as register
from .routes import meta, records
from .state import AppState, open_state
from .sync_api import routes as sync
from .transport import routes as transport

ROOT = Path(__file__).resolve().parent.parent
PWA_DIR = ROOT / "pwa"


async def _to_app(request: Request) -> Response:
    return RedirectResponse("/app/", status_code=308)


def _service_worker(pwa_dir: Path) -> Route:
    """``/app/sw.js`` with its cache name stamped from the shell's contents (server/pwa_shell.py)."""
    cache = WorkerCache(pwa_dir)

    async def worker(request: Request) -> Response:
        body = await run_in_threadpool(cache.body)
        return Response(body, media_type="text/javascript; charset=utf-8")

    return Route("/app/sw.js", worker, methods=["GET", "HEAD"])


def api_routes() -> list[BaseRoute]:
    return [*meta.routes, *ready.routes, *identity.routes, *sync.routes, *register.routes, *records.routes,
            *transport.routes, *legal.routes]


def create_app(settings: Settings | None = None, app_state: AppState | None = None) -> Starlette:
    """The whole server for one database file."""
    if app_state is None:
        if settings is None:
            raise ValueError("create_app needs settings or an app state")
        app_state = open_state(settings)
    routes: list[BaseRoute] = [
        *api_routes(),
        Route("/", _to_app),
        Route("/app", _to_app),
    ]
    if (Path(__file__).parent / "office" / "__init__.py").exists():  # the office pages
        routes += importlib.import_module("server.office").routes
    if PWA_DIR.is_dir():
        routes.append(_service_worker(PWA_DIR))
        routes.append(Mount("/app", app=StaticFiles(directory=PWA_DIR, html=True), name="app"))
    app = Starlette(routes=routes, exception_handlers=handlers(),  # type: ignore[arg-type]
                    middleware=[Middleware(SecurityHeaders), Middleware(Monitor),  # Monitor: access log, metrics
                                Middleware(Compress)],  # gzip when asked (server/compression.py)
                    lifespan=run_jobs(app_state))  # a job runner in each worker process
    app.state.doorstep = app_state
    return app
