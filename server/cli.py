"""The ``doorstep`` command: a thin layer over server/ and sync/ (PROTOCOL.md §8)."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import sync

from .config import Settings
from .identity import admin_cli as user_cli
from .ops import cli as ops_cli
from .relationships import cli as messages_cli
from .retention import cli as retention_cli
from .state import is_url, open_state
from .tenancy import cli as tenancy_cli
from .util import die_with_parent, freeze_heap


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="doorstep", description="Doorstep sync server and tools")
    p.add_argument("--db", default=os.environ.get("DOORSTEP_DB", "doorstep.db"),
                   help="the SQLite database file (default: $DOORSTEP_DB or doorstep.db)")
    p.add_argument("--tenants", metavar="DIR", help="several authorities, one database each, chosen by host name: "
                   "for tenant and serve (default there: $DOORSTEP_TENANTS; docs/deploy.md)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or migrate the database (idempotent)")
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add a user; password from $DOORSTEP_PASSWORD or standard input")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["officer", "office", "admin"])
    add.add_argument("--display-name")
    user_cli.add_parsers(user)  # list, deactivate, reactivate, reset-password, … (server/identity/admin_cli.py)
    fx = sub.add_parser("fixtures", help="demo data").add_subparsers(dest="action", required=True)
    fx.add_parser("load", help="load the demo local authority (repeatable)")
    serve = sub.add_parser("serve", help="serve the API, the PWA at /app/ and the office at /office/")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load the demo data into an empty database")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    mk = sub.add_parser("marks", help="attendance marks").add_subparsers(dest="action", required=True)
    imp = mk.add_parser("import", help="import marks from a CSV (upn,date,session,code), streamed; "
                        "running it again after a crash completes it")
    imp.add_argument("file")
    imp.add_argument("--extracted-at", help="when the school's system took the extract (ISO time; default now): "
                     "a mark is never overwritten from an earlier extract")
    # set by the office's background job, which runs the import in its own process
    imp.add_argument("--import-id", help=argparse.SUPPRESS)
    imp.add_argument("--as-user", help=argparse.SUPPRESS)
    imp.add_argument("--role", help=argparse.SUPPRESS)
    imp.add_argument("--filename", help=argparse.SUPPRESS)
    imp.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # end with the server that started it
    roll = sub.add_parser("roll", help="the school roll").add_subparsers(dest="action", required=True)
    rim = roll.add_parser("import", help="import schools, households and pupils from a roll CSV (docs/register.md)")
    rim.add_argument("file")
    rim.add_argument("--full", action="store_true",
                     help="the file is the full roll of every school in it: pupils missing from it are marked as left")
    rim.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    rim.add_argument("--force", action="store_true", help="a full roll may mark more than 10%% of a school as left")
    rim.add_argument("--date", help="the file's date, YYYY-MM-DD (default today): leavers leave on it")
    plan = sub.add_parser("plan", help="plan transport runs from a problem file (JSON)")
    plan.add_argument("--problem", required=True)
    plan.add_argument("--time-budget", type=float, help="seconds for the whole plan (default sized to the problem)")
    keys = sub.add_parser("keys", help="token signing keys").add_subparsers(dest="action", required=True)
    keys.add_parser("rotate", help="add a new current signing key")
    retire = keys.add_parser("retire", help="stop accepting tokens signed with a key")
    retire.add_argument("kid")
    ops_cli.add_parsers(sub)  # backup, restore, export subject (server/ops)
    retention_cli.add_parsers(sub)  # retention apply (server/retention)
    messages_cli.add_parsers(sub)  # messages send/export (server/relationships)
    tenancy_cli.add_parsers(sub)  # tenant add/list/migrate (server/tenancy)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings(db_path=args.db)
    except ValueError as exc:  # a DOORSTEP_* setting it cannot read (docs/deploy.md, "Settings")
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tenants = tenancy_cli.directory(args)
    if tenants is not None or args.command == "tenant":  # several authorities (server/tenancy)
        return tenancy_cli.main(args, tenants)
    if args.command == "plan":
        from .planner.cli import run

        limits = {"primary": settings.ride_limit_primary_min * 60,
                  "secondary": settings.ride_limit_secondary_min * 60}  # county problems' defaults
        return run(args.problem, sys.stdout, time_budget=args.time_budget, ride_limits=limits)
    if args.command in ops_cli.HANDLERS:
        return ops_cli.HANDLERS[args.command](settings, args)
    if args.command in retention_cli.HANDLERS:
        return retention_cli.HANDLERS[args.command](settings, args)
    if args.command in messages_cli.HANDLERS:
        return messages_cli.HANDLERS[args.command](settings, args)
    handler = {"init": _init, "user": _user_add, "fixtures": _fixtures, "serve": _serve,
               "marks": _marks_import, "keys": _keys, "roll": _roll_import}[args.command]
    return handler(settings, args)


def _init(settings: Settings, args: argparse.Namespace) -> int:
    open_state(settings)
    print(f"database ready: {settings.db_path}")
    return 0


def _user_add(settings: Settings, args: argparse.Namespace) -> int:
    from .identity.accounts import add_user

    if args.action != "add":
        return user_cli.run(open_state(settings), args)
    password = os.environ.get("DOORSTEP_PASSWORD")
    if password is None:
        password = sys.stdin.readline().rstrip("\r\n")
    st = open_state(settings)
    try:
        user = add_user(st.db, args.username, password, args.role, args.display_name, audit_via=user_cli.via())
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
    from sync import ADMIN, Actor

    from .register.figures import BandThresholds
    from .register.marks import SYSTEM, file_import_id, import_file, rejected_rows
    from .register.years import normalise_time

    if args.parent_pid:
        die_with_parent(args.parent_pid)
    extracted = None
    if args.extracted_at:
        extracted = normalise_time(args.extracted_at)
        if extracted is None:
            print(f"error: --extracted-at {args.extracted_at!r} is not an ISO date or time", file=sys.stderr)
            return 1
    st = open_state(settings)
    if hasattr(st.db, "batch_mode"):  # SQLite's; PostgreSQL's memory is the server's
        st.db.batch_mode()  # this process only imports: flat memory (docs/register.md §7)
    try:
        import_id = args.import_id or file_import_id(st.db, args.file, extracted)
        actor = Actor(args.as_user, args.role or ADMIN, None) if args.as_user else SYSTEM
        report = import_file(st.db, st.clock, args.file, actor, BandThresholds(
            at_risk=settings.at_risk_threshold, improvement_points=settings.improvement_points),
                             extracted_at=extracted, import_id=import_id, filename=args.filename or "")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"stored {report.stored} rows ({report.unchanged} unchanged, {report.rejected_count} rejected, "
          f"{report.superseded} kept from a later extract); {report.pupils_updated} pupils' figures updated")
    for row in rejected_rows(st.db, report.import_id):
        print(f"line {row['line']}: {row['reason']}")
    for row in report.superseded_rows:
        print(f"line {row['line']}: not applied: {row['kept']!r} from a later extract ({row['kept_from']}) kept")
    return 0


def _roll_import(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt

    from .register.roll import import_file, print_report

    try:
        day = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        print(f"error: --date {args.date!r} is not a date YYYY-MM-DD", file=sys.stderr)
        return 1
    st = open_state(settings)
    try:
        report = import_file(st.db, st.clock, args.file, full=args.full, dry_run=args.dry_run, force=args.force,
                             on=day)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    print_report(report, sys.stdout)
    if report.refused:
        print(f"refused: {report.refusal} To import it anyway, repeat with --force.", file=sys.stderr)
        return 2
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

    if is_url(settings.db_path):  # several servers share it: only `doorstep init` migrates
        from .state import open_database

        probe = open_database(settings.db_path)  # checked before open_state reads signing_keys
        try:
            pending = probe.pending()
        finally:
            probe.close()
        if pending:
            print(f"error: the database needs {len(pending)} migration(s) ({pending[0]} …): run "
                  "`doorstep --db URL init` once, from one process, then start the servers", file=sys.stderr)
            return 2
        st = open_state(settings, migrate=False)
    else:
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
    print("sync engine: compiled (mypyc)" if sync.NATIVE else "sync engine: interpreted; "
          "`python -m sync.native_build` compiles it (docs/deploy.md)", flush=True)
    options = uvicorn_options(settings, args.workers)
    if args.workers > 1:
        st.db.close()
        os.environ["DOORSTEP_DB"] = settings.db_path
        uvicorn.run("server.asgi:app", host=args.host, port=args.port, workers=args.workers,
                    log_level="warning", **options)
    else:
        from .app import create_app

        app = create_app(app_state=st)
        freeze_heap()
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", **options)
    return 0


def uvicorn_options(settings: Settings, workers: int) -> dict:
    """uvicorn's options for ``serve``: the forwarded headers, the metrics port, the access log."""
    from .monitor import serving

    # X-Forwarded-For/-Proto believed only from the proxy's addresses (docs/deploy.md)
    proxy = {"proxy_headers": bool(settings.forwarded_allow_ips),
             "forwarded_allow_ips": settings.forwarded_allow_ips or "127.0.0.1"}
    return {**proxy, **serving.start(settings, workers)}  # metrics port, JSON access log (server/monitor)


if __name__ == "__main__":
    sys.exit(main())
