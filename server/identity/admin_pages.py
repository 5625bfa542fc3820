"""The admin's users pages (``/office/users``): every user with their role, status, second factor
and live devices; one user's page to rename, change role, deactivate (with a confirmation) or
reactivate, issue a one-time password reset code (shown once) and reset their second factor.
Admins only; each action is identity/admin.py's, audited there (docs/users.md)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, ROLES

from ..office.pages import PageError, app_state, form, me, page, redirect, render, text_field, uuid_param
from . import admin

VIA = {"via": "office"}
SHOWS = ("all", "active", "inactive")
DONE = {"rename": "The display name was changed.", "role": "The role was changed.",
        "deactivate": "The user was deactivated: their office sessions ended and their phones were revoked as "
                      "returned (work not yet sent arrives once, then the phone wipes).",
        "reactivate": "The user was reactivated: they can sign in again.",
        "totp-reset": "The second factor was removed."}


def _admin_only(request: Request) -> str:
    user = me(request).user
    if user.role != ADMIN:
        raise PageError(403, "For admins", "Only an admin can manage users.")
    return user.id


@page
async def user_list(request: Request) -> Response:
    _admin_only(request)
    show = request.query_params.get("show", "all")
    show = show if show in SHOWS else "all"
    rows = await run_in_threadpool(admin.list_users, app_state(request).db, show)
    return render(request, "users.html", {"title": "Users", "rows": rows, "show": show}, active="users")


async def _target(request: Request) -> dict[str, Any]:
    found = await run_in_threadpool(admin.one, app_state(request).db, uuid_param(request, "user_id", "user"))
    if found is None:
        raise PageError(404, "Not found", "There is no user with that id.")
    return found


def _user_page(request: Request, user: dict[str, Any], *, step: str = "", error: str = "", reason: str = "",
               code: str = "", expires: float | None = None, status: int = 200) -> Response:
    st = app_state(request)
    response = render(request, "user.html", {
        "title": user["display_name"], "u": user, "roles": ROLES, "step": step, "error": error, "reason": reason,
        "code": code, "expires": dt.datetime.fromtimestamp(expires, dt.UTC).isoformat() if expires else "",
        "done": DONE.get(request.query_params.get("done", ""), ""),
        "is_me": user["id"] == me(request).user.id, "hours": f"{st.settings.reset_code_hours:g}",
        "max_name": admin.MAX_NAME}, status=status, active="users")
    if code:
        response.headers["Cache-Control"] = "no-store"  # the code is shown once: not kept by the browser
    return response


@page
async def user_detail(request: Request) -> Response:
    _admin_only(request)
    return _user_page(request, await _target(request))


@page
async def user_action(request: Request) -> Response:
    """``POST /office/users/{id}/{action}``: one action, then back to the user's page (the reset
    code is shown on the answer itself, once)."""
    by = _admin_only(request)
    user = await _target(request)
    action = request.path_params["action"]
    data = form(request)
    db = app_state(request).db
    try:
        if action == "rename":
            await run_in_threadpool(admin.rename, db, user["id"], text_field(data, "display_name", 500), by, VIA)
        elif action == "role":
            await run_in_threadpool(admin.set_role, db, user["id"], text_field(data, "role", 20), by, VIA)
        elif action == "deactivate":
            reason = text_field(data, "reason", 600)
            if len(reason) > 500:
                raise admin.AdminError("Keep the reason to 500 characters.", 422)
            if text_field(data, "confirm", 10) != "yes":
                return _user_page(request, user, step="confirm-deactivate", reason=reason)
            await run_in_threadpool(admin.deactivate, db, user["id"], by, reason, VIA)
        elif action == "reactivate":
            await run_in_threadpool(admin.reactivate, db, user["id"], by, VIA)
        elif action == "reset-password":
            hours = app_state(request).settings.reset_code_hours
            code, expires = await run_in_threadpool(admin.issue_reset, db, user["id"], by, hours, VIA)
            return _user_page(request, user, code=code, expires=expires)
        elif action == "totp-reset":
            await run_in_threadpool(admin.reset_totp, db, user["id"], by, VIA)
        else:
            raise PageError(404, "Not found", "There is no such action.")
    except admin.AdminError as exc:
        fresh = await _target(request)
        message = exc.message.rstrip(".")
        return _user_page(request, fresh, error=message[:1].upper() + message[1:] + ".", status=exc.status)
    return redirect(f"/office/users/{user['id']}?done={action}")


routes = [
    Route("/office/users", user_list, methods=["GET"]),
    Route("/office/users/{user_id}", user_detail, methods=["GET"]),
    Route("/office/users/{user_id}/{action}", user_action, methods=["POST"]),
]
