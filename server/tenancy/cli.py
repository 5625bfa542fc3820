"""``doorstep --tenants DIR tenant add|list|migrate`` and ``doorstep --tenants DIR serve``
(registered by ``server/cli.py``; docs/deploy.md, "Several authorities on one server")."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..config import Settings
from .registry import (
    Authority,
    RegistryError,
    check_host,
    check_name,
    check_url,
    db_path,
    load,
    locked,
    refuse_clash,
    save,
)

ENV = "DOORSTEP_TENANTS"
T = TypeVar("T")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    tenant = sub.add_parser("tenant", help="the authorities one server answers for (with --tenants DIR)")
    actions = tenant.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an authority's database DIR/NAME.db (or migrate the PostgreSQL "
                             "database --db names) and register its host names")
    add.add_argument("name", help="lower-case letters, digits and hyphens")
    add.add_argument("--host", dest="hosts", action="append", required=True,
                     help="a host name the authority answers on (repeat for more)")
    add.add_argument("--db", dest="database", metavar="URL",
                     help="postgresql://user@host:port/dbname: an existing PostgreSQL database, which it migrates "
                          "(no password in the URL: PGPASSWORD, PGPASSFILE or ~/.pgpass); default DIR/NAME.db")
    actions.add_parser("list", help="the authorities, their host names and whether each database is current")
    actions.add_parser("migrate", help="migrate every authority's database (one process, before servers start)")


def directory(args: argparse.Namespace) -> str | None:
    """The registry's directory: ``--tenants``, or ``$DOORSTEP_TENANTS`` for ``tenant`` and
    ``serve`` only (another command is given ``--db DIR/NAME.db`` for one authority)."""
    if args.tenants:
        return str(args.tenants)
    if args.command in ("tenant", "serve"):
        return os.environ.get(ENV) or None
    return None


def main(args: argparse.Namespace, tenants: str | None) -> int:
    if tenants is None:
        return _error("tenant needs --tenants DIR (or $DOORSTEP_TENANTS): the directory of the authorities")
    if args.command not in ("tenant", "serve"):
        return _error(f"--tenants is for tenant and serve; run {args.command} for one authority with "
                      f"--db {db_path(tenants, 'NAME')}")
    try:
        if args.command == "serve":
            return serve(tenants, args)
        return {"add": _add, "list": _list, "migrate": _migrate}[args.action](tenants, args)
    except RegistryError as exc:
        return _error(str(exc))


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _add(tenants: str, args: argparse.Namespace) -> int:
    from .dispatch import pending

    name = check_name(args.name)
    hosts = [check_host(h) for h in args.hosts]
    url = check_url(args.database) if args.database else None
    with locked(tenants):
        existing = load(tenants)
        refuse_clash(existing, name, hosts, url)
        authority = Authority(name, tuple(hosts), url or db_path(tenants, name))
        adopted = Path(authority.db_path).exists() if url is None else _reach(authority, pending) is not None
        _open(authority)  # the same as doorstep init: create or migrate the database, and its first signing key
        save(tenants, [*existing, authority])
    made = "database created" if url is None else "database migrated"
    print(f"authority {name}: {'existing database adopted and migrated' if adopted else made} "
          f"at {authority.db_path}; answers on {', '.join(hosts)}")
    print("restart the server to serve it")
    return 0


def _open(a: Authority) -> None:
    """Migrate the authority's database and give it a signing key (``doorstep init``): a SQLite
    file is created if missing; a PostgreSQL database must exist, and its migrations run under
    the schema's advisory lock (``PgDatabase.migrate``)."""
    from ..state import open_state

    _reach(a, lambda where: open_state(Settings(db_path=where, authority=a.name)).db.close())


def _reach(a: Authority, step: Callable[[str], T]) -> T:
    """``step(a.db_path)``; a database that cannot be reached raises ``RegistryError`` saying why."""
    from .dispatch import store_errors, unreachable

    try:
        return step(a.db_path)
    except store_errors() as exc:
        raise unreachable(a, exc) from None


def _list(tenants: str, args: argparse.Namespace) -> int:
    from .dispatch import pending, reason, store_errors

    authorities = load(tenants)
    if not authorities:
        print(f"no authorities in {tenants}")
    for a in authorities:
        try:
            missing = pending(a.db_path)
        except store_errors() as exc:
            state = f"cannot read: {reason(exc)}"
        else:
            state = ("no database" if missing is None else f"{len(missing)} migrations pending" if missing
                     else "current")
        print(f"{a.name}\t{' '.join(a.hosts)}\t{a.db_path}\t{state}")
    return 0


def _migrate(tenants: str, args: argparse.Namespace) -> int:
    from .dispatch import absent, pending

    failed = 0
    with locked(tenants):
        for a in load(tenants):
            try:
                if _reach(a, pending) is None:  # never an empty database in place of a lost one
                    raise RegistryError(absent(a))
                _open(a)
            except RegistryError as exc:
                print(f"error: {exc}", file=sys.stderr)
                failed += 1
                continue
            print(f"authority {a.name}: database current ({a.db_path})")
    return 2 if failed else 0


def serve(tenants: str, args: argparse.Namespace) -> int:
    import uvicorn

    from ..cli import uvicorn_options
    from ..util import freeze_heap
    from .dispatch import build, check

    if args.demo:
        return _error("--demo loads one database; load it into one authority with doorstep --db DIR/NAME.db "
                      "fixtures load")
    names = ", ".join(f"{a.name} ({' '.join(a.hosts)})" for a in check(tenants))
    print(f"Doorstep for {names} on http://{args.host}:{args.port}/", flush=True)
    # process-wide: the proxy and the metrics port; the metrics' figures read from one database
    # (import rows, conflicts) are left out with several (/dev/null holds no tables)
    options = uvicorn_options(Settings(db_path=os.devnull), args.workers)
    if args.workers > 1:
        os.environ[ENV] = tenants  # each worker builds its dispatcher from it (server/asgi.py)
        uvicorn.run("server.asgi:app", host=args.host, port=args.port, workers=args.workers,
                    log_level="warning", **options)
    else:
        app = build(tenants)
        freeze_heap()
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", **options)
    return 0
