"""``doorstep user list | deactivate | reactivate | reset-password | set-role | rename | totp-reset``:
the command line's user administration, over identity/admin.py (docs/users.md). ``user add`` is
in server/cli.py. Imports nothing heavy at load: the parser is built for every command."""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import Any, TextIO

ROLE_CHOICES = ["officer", "office", "admin"]


def add_parsers(user: Any) -> None:
    """The subcommands, on ``doorstep user``'s subparsers."""
    ls = user.add_parser("list", help="list users with their role, status, second factor and live devices")
    ls.add_argument("--show", choices=["all", "active", "inactive"], default="all")
    off = user.add_parser("deactivate", help="stop a user at once: sessions end, phones revoked as returned "
                          "(unsent work arrives once, then they wipe)")
    off.add_argument("username")
    off.add_argument("--reason", default="", help="kept with the revoked devices and in the audit log")
    on = user.add_parser("reactivate", help="let a deactivated user sign in again")
    on.add_argument("username")
    rp = user.add_parser("reset-password", help="print a one-time code the user exchanges for a new password")
    rp.add_argument("username")
    sr = user.add_parser("set-role", help="change a user's role")
    sr.add_argument("username")
    sr.add_argument("role", choices=ROLE_CHOICES)
    rn = user.add_parser("rename", help="change a user's display name (the username stays)")
    rn.add_argument("username")
    rn.add_argument("display_name")
    tr = user.add_parser("totp-reset", help="remove a user's second factor (a lost authenticator)")
    tr.add_argument("username")


def via() -> dict[str, Any]:
    """The command line as the actor of an audit row."""
    try:
        who = getpass.getuser()
    except (OSError, KeyError):
        who = ""
    return {"via": "cli", "os_user": who}


def _list(db: Any, args: argparse.Namespace, out: TextIO) -> int:
    from . import admin

    rows = admin.list_users(db, args.show)
    table = [("USERNAME", "ROLE", "STATUS", "2FA", "DEVICES", "DISPLAY NAME", "ID")]
    table += [(r["username"], r["role"], "active" if r["active"] else "deactivated", "yes" if r["totp"] else "no",
               str(r["live_devices"]), r["display_name"], r["id"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), file=out)
    return 0


def run(st: Any, args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from . import admin

    out, err = out or sys.stdout, err or sys.stderr
    if args.action == "list":
        return _list(st.db, args, out)
    user = admin.by_username(st.db, args.username)
    if user is None:
        print(f"error: there is no user {args.username}", file=err)
        return 1
    actor, uid, name = via(), user["id"], user["username"]
    try:
        if args.action == "deactivate":
            n = admin.deactivate(st.db, uid, None, args.reason.strip(), actor)
            print(f"deactivated {name}: office sessions ended, {n} device{'' if n == 1 else 's'} revoked as "
                  "returned (unsent work arrives once, then the phone wipes)", file=out)
        elif args.action == "reactivate":
            admin.reactivate(st.db, uid, None, actor)
            print(f"reactivated {name}: they can sign in again", file=out)
        elif args.action == "reset-password":
            hours = st.settings.reset_code_hours
            code, expires = admin.issue_reset(st.db, uid, None, hours, actor)
            until = dt.datetime.fromtimestamp(expires, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            print(f"one-time reset code for {name} (valid until {until}, shown only now):\n\n    {code}\n\n"
                  "Give it to them in person or by phone; they choose a new password at /office/reset-password "
                  "(or POST /api/auth/reset-password).", file=out)
        elif args.action == "set-role":
            admin.set_role(st.db, uid, args.role, None, actor)
            print(f"{name} is now {args.role}", file=out)
        elif args.action == "rename":
            shown = admin.rename(st.db, uid, args.display_name, None, actor)
            print(f"{name} is now shown as {shown}", file=out)
        elif args.action == "totp-reset":
            admin.reset_totp(st.db, uid, None, actor)
            print(f"removed the second factor of {name}", file=out)
    except admin.AdminError as exc:
        print(f"error: {exc.message}", file=err)
        return 1
    return 0
