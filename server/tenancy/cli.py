"""``doorstep --tenants DIR tenant add|list|migrate`` and ``doorstep --tenants DIR serve``
(registered by ``server/cli.py``; docs/deploy.md, "Several authorities on one server")."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import Settings
from .registry import Authority, RegistryError, check_host, check_name, db_path, load, locked, refuse_clash, save

ENV = "DOORSTEP_TENANTS"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    tenant = sub.add_parser("tenant", help="the authorities one server answers for (with --tenants DIR)")
    actions = tenant.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an authority's database DIR/NAME.db and register its host names")
    add.add_argument("name", help="lower-case letters, digits and hyphens")
    add.add_argument("--host", dest="hosts", action="append", required=True,
                     help="a host name the authority answers on (repeat for more)")
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
    from ..state import open_state

    name = check_name(args.name)
    hosts = [check_host(h) for h in args.hosts]
    with locked(tenants):
        existing = load(tenants)
        refuse_clash(existing, name, hosts)
        path = db_path(tenants, name)
        adopted = Path(path).exists()
        # the same as doorstep init: create or migrate the database, and its first signing key
        open_state(Settings(db_path=path, authority=name)).db.close()
        save(tenants, [*existing, Authority(name, tuple(hosts), path)])
    print(f"authority {name}: {'existing database adopted and migrated' if adopted else 'database created'} "
          f"at {path}; answers on {', '.join(hosts)}")
    print("restart the server to serve it")
    return 0


def _list(tenants: str, args: argparse.Namespace) -> int:
    from .dispatch import pending

    authorities = load(tenants)
    if not authorities:
        print(f"no authorities in {tenants}")
    for a in authorities:
        missing = pending(a.db_path)
        state = "no database" if missing is None else f"{len(missing)} migrations pending" if missing else "current"
        print(f"{a.name}\t{' '.join(a.hosts)}\t{a.db_path}\t{state}")
    return 0


def _migrate(tenants: str, args: argparse.Namespace) -> int:
    from ..state import open_state

    failed = 0
    with locked(tenants):
        for a in load(tenants):
            if not Path(a.db_path).is_file():  # never an empty database in place of a lost one
                print(f"error: authority {a.name}: no database at {a.db_path} (restore it, docs/backup.md)",
                      file=sys.stderr)
                failed += 1
                continue
            open_state(Settings(db_path=a.db_path, authority=a.name)).db.close()
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
