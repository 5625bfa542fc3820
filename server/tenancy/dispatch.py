"""One server process for several authorities: an ASGI app that picks the authority by the
request's ``Host`` and hands the request to that authority's own app (``server.app.create_app``
on its own database: its own write lock, clock, signing keys, sessions and job runner).

An unknown host answers 404 ``unknown_authority`` and touches no database. Each authority's
app is started (its lifespan: the background job runner) when the server starts, not on its
first request: queued jobs and a job interrupted by a restart resume whether or not anybody
is using that authority's host, and a database that cannot start stops the server at once
rather than on somebody's request later.

Nothing here migrates: ``build`` refuses a database that is not current (``tenant migrate``
runs the migrations, in one process). An authority's database is a SQLite file or a PostgreSQL
database (its URL in the registry); nothing below the check depends on which.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from ..errors import body
from ..headers import SecurityHeaders
from ..jsonresp import JSONResponse
from ..migrations import migrations
from ..monitor.access import Monitor
from ..state import is_url
from .registry import Authority, RegistryError, load, normalise_host

log = logging.getLogger("doorstep.tenancy")


def store_errors() -> tuple[type[Exception], ...]:
    """What opening or reading an authority's database raises when it cannot be reached."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


def pending(where: str) -> list[str] | None:
    """The migrations not yet applied to the database ``where`` names (a SQLite file's path or a
    PostgreSQL URL), read only, nothing created; None when no database is there: no file, or a
    PostgreSQL database holding no Doorstep schema. Raises one of ``store_errors()`` when the
    database cannot be read (a PostgreSQL database that does not exist or refuses the role)."""
    if is_url(where):
        return _pg_pending(where)
    if not Path(where).is_file():
        return None
    conn = sqlite3.connect(f"file:{where}?mode=ro", uri=True, timeout=5)
    try:
        return [m.name for m in migrations.pending(sqlite_utils.Database(conn))]
    finally:
        conn.close()


def _pg_pending(url: str) -> list[str] | None:
    from ..pg import PgDatabase
    from ..pg.schema import pending as pg_pending

    db = PgDatabase(url)
    try:
        conn = db.connect()
        if not conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]:
            return None
        return pg_pending(conn)
    finally:
        db.close()


def reason(exc: Exception) -> str:
    """A driver's error as one line (libpq's run over several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def unreachable(a: Authority, exc: Exception) -> RegistryError:
    """The operator's message for an authority whose database cannot be read."""
    return RegistryError(f"authority {a.name}: cannot read {a.db_path}: {reason(exc)}")


def absent(a: Authority) -> str:
    """Why an authority with no database there cannot be served (``pending`` gave None)."""
    if a.url:
        return (f"authority {a.name}: the database {a.db_path} holds no Doorstep schema "
                "(restore it, docs/backup.md)")
    return f"authority {a.name}: no database at {a.db_path} (restore it, docs/backup.md)"


def check(directory: str | Path, authorities: Iterable[Authority] | None = None) -> list[Authority]:
    """The registry's authorities, each with a database that is there and current; else
    ``RegistryError`` saying which and what to run."""
    found = list(load(directory) if authorities is None else authorities)
    if not found:
        raise RegistryError(f"no authorities in {directory}: add one with doorstep --tenants {directory} tenant add")
    for a in found:
        try:
            missing = pending(a.db_path)
        except store_errors() as exc:
            raise unreachable(a, exc) from None
        if missing is None:
            raise RegistryError(absent(a))
        if missing:
            raise RegistryError(f"authority {a.name}: its database is not current ({len(missing)} migrations "
                                f"pending, from {missing[0]}): run doorstep --tenants {directory} tenant migrate "
                                "(one process, before any server starts)")
    return found


def build(directory: str | Path) -> Dispatcher:
    """The dispatcher for every authority in ``directory``'s registry, each database checked
    current and opened without migrating."""
    from ..app import create_app
    from ..state import open_state

    apps: list[tuple[Authority, ASGIApp]] = []
    try:
        for a in check(directory):
            try:
                state = open_state(Settings(db_path=a.db_path, authority=a.name), migrate=False)
            except store_errors() as exc:
                raise unreachable(a, exc) from None
            apps.append((a, create_app(app_state=state)))
    except BaseException:
        for _a, app in apps:
            _close(app)
        raise
    return Dispatcher(apps)


def _close(app: ASGIApp) -> None:
    """Close an authority's database (an app of ``create_app``; anything else holds none)."""
    state = getattr(getattr(app, "state", None), "doorstep", None)
    if state is not None:
        state.db.close()


async def _unknown_host(scope: Scope, receive: Receive, send: Send) -> None:
    host = normalise_host(_host(scope) or "")[:200]
    message = f"no authority answers on host {host!r}" if host else "the request names no host"
    response = JSONResponse(body("unknown_authority", message), status_code=404,
                            headers={"cache-control": "no-store"})
    await response(scope, receive, send)


def _host(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"host":
            return value.decode("latin-1")
    return None


class Dispatcher:
    def __init__(self, apps: list[tuple[Authority, ASGIApp]]) -> None:
        self.apps = apps
        self.by_host = {host: app for a, app in apps for host in a.hosts}
        self.unknown = Monitor(SecurityHeaders(_unknown_host))  # logged as every answer is, route 'unmatched'

    def app_for(self, host: str | None) -> ASGIApp | None:
        return self.by_host.get(normalise_host(host)) if host else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self.app_for(_host(scope))
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "http":
            await self.unknown(scope, receive, send)
        else:  # a websocket to a host nobody answers on
            await send({"type": "websocket.close", "code": 1008})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        started: list[_Lifespan] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for a, app in self.apps:
                        started.append(await _Lifespan(a.name, app).startup())
                except Exception as exc:
                    await _stop(started)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _stop(started)
                for _a, app in self.apps:
                    _close(app)
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _stop(started: list[_Lifespan]) -> None:
    for lifespan in reversed(started):
        try:
            await lifespan.shutdown()
        except Exception:
            log.exception("authority %s did not shut down cleanly", lifespan.name)


class _Lifespan:
    """One authority's app driven through the ASGI lifespan protocol, as a server drives an app."""

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name, self.app = name, app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[Any] | None = None

    async def startup(self) -> _Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        reply = await self._reply()
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"authority {self.name} did not start: {reply.get('message', '')}")
        return self

    async def shutdown(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        reply = await self._reply()
        assert self.task is not None
        await self.task
        if reply["type"] != "lifespan.shutdown.complete":
            raise RuntimeError(reply.get("message", ""))

    async def _reply(self) -> Message:
        assert self.task is not None
        get = asyncio.ensure_future(self.outbox.get())
        done, _ = await asyncio.wait({get, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if get in done:
            return get.result()
        get.cancel()
        exc = self.task.exception()
        return {"type": "lifespan.failed", "message": repr(exc) if exc else "the app's lifespan ended"}
