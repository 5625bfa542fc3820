"""The ``doorstep`` command: a thin layer over server/ and sync/ (PROTOCOL.md §8)."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .config import Settings
from .state import open_state
from .util import freeze_heap


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="doorstep", description="Doorstep sync server and tools")
    p.add_argument("--db", default=os.environ.get("DOORSTEP_DB", "doorstep.db"),
                   help="the SQLite database file (default: $DOORSTEP_DB or doorstep.db)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or migrate the database (idempotent)")
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add a user; password from $DOORSTEP_PASSWORD or standard input")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["officer", "office", "admin"])
    add.add_argument("--display-name")
    fx = sub.add_parser("fixtures", help="demo data").add_subparsers(dest="action", required=True)
    fx.add_parser("load", help="load the demo local authority (repeatable)")
    serve = sub.add_parser("serve", help="serve the API, the PWA at /app/ and the office at /office/")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load the demo data into an empty database")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    mk = sub.add_parser("marks", help="attendance marks").add_subparsers(dest="action", required=True)
    imp = mk.add_parser("import", help="import marks from a CSV (upn,date,session,code)")
    imp.add_argument("file")
    plan = sub.add_parser("plan", help="plan transport runs from a problem file (JSON)")
    plan.add_argument("--problem", required=True)
    keys = sub.add_parser("keys", help="token signing keys").add_subparsers(dest="action", required=True)
    keys.add_parser("rotate", help="add a new current signing key")
    retire = keys.add_parser("retire", help="stop accepting tokens signed with a key")
    retire.add_argument("kid")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "plan":
        from .planner.cli import run

        return run(args.problem, sys.stdout)
    settings = Settings(db_path=args.db)
    handler = {"init": _init, "user": _user_add, "fixtures": _fixtures, "serve": _serve,
               "marks": _marks_import, "keys": _keys}[args.command]
    return handler(settings, args)


def _init(settings: Settings, args: argparse.Namespace) -> int:
    open_state(settings)
    print(f"database ready: {settings.db_path}")
    return 0


def _user_add(settings: Settings, args: argparse.Namespace) -> int:
    from .accounts import add_user

    password = os.environ.get("DOORSTEP_PASSWORD")
    if password is None:
        password = sys.stdin.readline().rstrip("\r\n")
    st = open_state(settings)
    try:
        user = add_user(st.db, args.username, password, args.role, args.display_name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"added {user.role} {user.username} ({user.id})")
    return 0


def _fixtures(settings: Settings, args: argparse.Namespace) -> int:
    from .demo import load_demo

    counts = load_demo(open_state(settings))
    print("demo local authority loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _marks_import(settings: Settings, args: argparse.Namespace) -> int:
    from .marks import import_csv

    try:
        with open(args.file, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    st = open_state(settings)
    try:
        report = import_csv(st.db, st.clock, text)
    except ValueError as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"stored {report.stored} rows ({report.unchanged} unchanged, {len(report.rejected)} rejected); "
          f"{report.pupils_updated} pupils' figures updated")
    for row in report.rejected:
        print(f"line {row['line']}: {row['reason']}")
    return 0


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    st = open_state(settings)
    if args.action == "rotate":
        print(f"new signing key {st.signer.rotate()}")
        return 0
    if st.signer.retire(args.kid):
        print(f"retired key {args.kid}: tokens signed with it are refused")
        return 0
    print(f"error: no active key {args.kid}", file=sys.stderr)
    return 1


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    st = open_state(settings)
    if args.demo:
        from .demo import demo_logins, load_demo

        if not st.db.query("SELECT 1 FROM users LIMIT 1"):
            counts = load_demo(st)
            print(f"demo data loaded: {counts['pupils']} pupils, {counts['cases']} cases", flush=True)
        print("demo logins (username / password / role):", flush=True)
        for username, password, role in demo_logins():
            print(f"  {username:10} {password:22} {role}", flush=True)
    print(f"Doorstep on http://{args.host}:{args.port}/app/ (office: /office/)", flush=True)
    if args.workers > 1:
        st.db.close()
        os.environ["DOORSTEP_DB"] = settings.db_path
        uvicorn.run("server.asgi:app", host=args.host, port=args.port, workers=args.workers,
                    log_level="warning")
    else:
        from .app import create_app

        app = create_app(app_state=st)
        freeze_heap()
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
