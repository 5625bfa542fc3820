"""The office: sign-in and sign-out with the same accounts as the API; the devices page
(every signed-in device with its user, name and last sync; revoke a lost phone)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from .. import audit
from ..errors import ApiError
from ..http import client_address
from ..office.exports import csv_response, csv_text
from ..office.pages import (OFFICE_ROLES, PageError, app_state, form, me, page, redirect, render,
                            text_field, uuid_param)
from ..util import wait_words
from . import accounts, admin_pages, devices, sessions, status, totp, totp_pages

LOGIN_TOKEN_AGE_S = 2 * 3600
REASONS = {"revoked": "revoked in the office or the API", "refresh_token_reuse": "a refresh token was reused",
           "logout": "signed out"}
KINDS = {"lost": "Lost or stolen", "returned": "Returned or replaced"}


# -- sign-in and sign-out ------------------------------------------------------------------

_safe_next = totp_pages.safe_next


def _login_page(request: Request, status: int = 200, error: str = "", username: str = "",
                notice: str = "") -> Response:
    token = sessions.login_token(request)
    response = render(request, "login.html", {
        "title": "Sign in", "login_csrf": token, "error": error, "username": username, "notice": notice,
        "next": _safe_next(request.query_params.get("next", "")),
    }, status=status)
    sessions.set_cookie(response, request, sessions.LOGIN_COOKIE, token, LOGIN_TOKEN_AGE_S)
    return response


async def login_form(request: Request) -> Response:
    st = app_state(request)
    if await run_in_threadpool(sessions.load, st.db, request.cookies.get(sessions.COOKIE)):
        return redirect("/office/")
    notice = "You have signed out." if request.query_params.get("signed_out") else ""
    return _login_page(request, notice=notice)


async def login(request: Request) -> Response:
    st = app_state(request)

    async def handle(data: FormData) -> Response:
        username = text_field(data, "username", 100)
        password = data.get("password", "")
        if not username or not isinstance(password, str) or not password:
            return _login_page(request, 422, "Enter your username and password.", username)
        address = client_address(request)
        settings = st.settings
        try:
            user = await run_in_threadpool(accounts.sign_in, st.db, username, password[:1000], address, settings)
        except ApiError as exc:
            when = wait_words(exc.details.get("retry_after_s", 60))
            response = _login_page(request, 429, f"Too many failed sign-ins. Try again in about {when}.", username)
            response.headers["Retry-After"] = str(exc.details.get("retry_after_s", 60))
            return response
        if user is None:
            return _login_page(request, 401, "That username and password do not match an account.", username)
        if user.role not in OFFICE_ROLES:
            return _login_page(request, 403, "The office pages are for office and admin staff. Field officers "
                               "sign in to the field app at /app/.", username)
        next_path = text_field(data, "next", 2000)
        if await run_in_threadpool(totp.needed, st.db, settings, user) != "none":  # docs/users.md
            return await totp_pages.ask_for_code(request, user, next_path)
        return await totp_pages.start_session(request, user, next_path, {})

    return await totp_pages.pre_session_form(request, handle, lambda exc: _login_page(request, exc.status, exc.message),
                                             "The sign-in form had expired. Please try again.")


@page
async def logout(request: Request) -> Response:
    st = app_state(request)
    user = me(request).user

    def work() -> None:
        sessions.end(st.db, request.cookies.get(sessions.COOKIE))
        with st.db.write() as txn:
            audit.record(txn, user.id, None, "office_sign_out", [])

    await run_in_threadpool(work)
    response = redirect("/office/login?signed_out=1")
    sessions.clear_cookie(response, request, sessions.COOKIE)
    return response


# -- devices -------------------------------------------------------------------------------

def _active_only(request: Request) -> bool:
    return request.query_params.get("show") == "active"


@page
async def device_list(request: Request) -> Response:
    st = app_state(request)
    active_only = _active_only(request)
    rows = await run_in_threadpool(devices.latest_first, st.db, active_only)
    revoked = request.query_params.get("revoked", "")
    name = await run_in_threadpool(devices.name, st.db, revoked) if is_uuid(revoked) else ""
    hours = st.settings.unsent_alert_hours
    alerts = await run_in_threadpool(devices.unsent_alerts, st.db, hours)
    return render(request, "devices.html", {"title": "Devices", "rows": rows, "show": "active" if active_only
                                            else "all", "revoked_name": name, "reasons": REASONS, "kinds": KINDS,
                                            "alerts": alerts, "alert_hours": f"{hours:g}"},
                  active="devices")


@page
async def device_csv(request: Request) -> Response:
    st = app_state(request)
    rows = await run_in_threadpool(devices.latest_first, st.db, _active_only(request))
    header = ["device_id", "device_name", "username", "user", "role", "signed_in_at", "last_seen_at",
              "last_sync_at", "revoked_at", "revoked_reason", "revoked_by", "revoke_kind", "revoke_note",
              "final_push_at", "lost_unsent", "unsent", "unsent_since", "app_version", "phone_last_sync_at"]
    body = [[r["id"], r["name"], r["username"], r["display_name"], r["role"], r["created_at"], r["last_seen_at"],
             r["last_sync_at"], r["revoked_at"], r["revoked_reason"], r["revoked_by_name"], r["revoke_kind"],
             r["revoke_note"], r["final_push_at"], r["lost_unsent"], r["unsent"], r["unsent_since"], r["app_version"],
             r["phone_synced_at"]] for r in rows]
    return csv_response("devices.csv", csv_text(header, body))


async def _revocable(request: Request) -> dict:
    """The device in the path, if it can still be revoked (or, returned, declared lost)."""
    st = app_state(request)
    device_id = uuid_param(request, "device_id", "device")
    found = await run_in_threadpool(devices.one, st.db, device_id)
    if found is None:
        raise PageError(404, "Not found", "There is no device with that id.")
    if found["revoked_at"] is not None and not status.final_push_open(found):
        raise PageError(409, "Already revoked", f"“{found['name']}” was already revoked or signed out.")
    return found


def _revoke_page(request: Request, device: dict, step: str, kind: str = "", reason: str = "",
                 errors: list[str] | None = None, status_code: int = 200) -> Response:
    kinds = {"lost": KINDS["lost"]} if device["revoked_at"] else KINDS
    return render(request, "device_revoke.html", {
        "title": "Revoke a device", "d": device, "step": step, "kind": kind, "reason": reason,
        "errors": errors or [], "kinds": kinds, "max_reason": devices.MAX_REASON}, status=status_code,
        active="devices")


@page
async def revoke_form(request: Request) -> Response:
    device = await _revocable(request)
    return _revoke_page(request, device, "choose", "lost" if device["revoked_at"] else "")


@page
async def revoke(request: Request) -> Response:
    """Two steps: the kind and the reason, then a confirmation (``confirm=yes``) that revokes."""
    st = app_state(request)
    device = await _revocable(request)
    data = form(request)
    kind, reason = text_field(data, "kind", 20), text_field(data, "reason", 2000)
    errors: list[str] = []
    if kind not in (("lost",) if device["revoked_at"] else devices.KINDS):
        errors.append("Choose what happened to the phone.")
    if not reason:
        errors.append("Give the reason for revoking it.")
    elif len(reason) > devices.MAX_REASON:
        errors.append(f"Keep the reason to {devices.MAX_REASON} characters.")
    if errors:
        return _revoke_page(request, device, "choose", kind, reason, errors, 422)
    if text_field(data, "edit", 10):  # "Change" on the confirmation
        return _revoke_page(request, device, "choose", kind, reason)
    if text_field(data, "confirm", 10) != "yes":
        return _revoke_page(request, device, "confirm", kind, reason)
    user = me(request).user
    await run_in_threadpool(devices.revoke, st.db, device["id"], user.id, None, kind, reason, {"via": "office"})
    return redirect(f"/office/devices?revoked={device['id']}")


routes = [
    Route("/office/login", login_form, methods=["GET"]),
    Route("/office/login", login, methods=["POST"]),
    Route("/office/logout", logout, methods=["POST"]),
    Route("/office/devices", device_list, methods=["GET"]),
    Route("/office/devices.csv", device_csv, methods=["GET"]),
    Route("/office/devices/{device_id}/revoke", revoke_form, methods=["GET"]),
    Route("/office/devices/{device_id}/revoke", revoke, methods=["POST"]),
    *totp_pages.routes, *admin_pages.routes,
]
