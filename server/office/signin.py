"""Sign-in and sign-out of the office pages, with the same accounts as the API."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import accounts, audit
from ..errors import ApiError
from . import session
from .pages import OFFICE_ROLES, PageError, app_state, me, page, read_form, redirect, render, text_field

LOGIN_TOKEN_AGE_S = 2 * 3600


def _safe_next(value: str) -> str:
    """Only a path inside the office pages (no open redirect)."""
    if value.startswith("/office/") and not value.startswith("//") and "\\" not in value and len(value) < 2000:
        return value
    return "/office/"


def _login_page(request: Request, status: int = 200, error: str = "", username: str = "",
                notice: str = "") -> Response:
    token = session.login_token(request)
    response = render(request, "login.html", {
        "title": "Sign in", "login_csrf": token, "error": error, "username": username, "notice": notice,
        "next": _safe_next(request.query_params.get("next", "")),
    }, status=status)
    session.set_cookie(response, request, session.LOGIN_COOKIE, token, LOGIN_TOKEN_AGE_S)
    return response


async def login_form(request: Request) -> Response:
    st = app_state(request)
    if await run_in_threadpool(session.load, st.db, request.cookies.get(session.COOKIE)):
        return redirect("/office/")
    notice = "You have signed out." if request.query_params.get("signed_out") else ""
    return _login_page(request, notice=notice)


async def login(request: Request) -> Response:
    st = app_state(request)
    try:
        data = await read_form(request)
    except PageError as exc:
        return _login_page(request, exc.status, exc.message)
    try:
        expected = request.cookies.get(session.LOGIN_COOKIE)
        if not session.tokens_match(expected, data.get(session.CSRF_FIELD)):
            return _login_page(request, 403, "The sign-in form had expired. Please try again.")
        username = text_field(data, "username", 100)
        password = data.get("password", "")
        if not username or not isinstance(password, str) or not password:
            return _login_page(request, 422, "Enter your username and password.", username)
        address = request.client.host if request.client else "unknown"
        settings = st.settings
        try:
            await run_in_threadpool(accounts.check_throttle, st.db, username, address,
                                    settings.login_max_failures, settings.login_window_s)
        except ApiError as exc:
            minutes = max(1, round(exc.details.get("retry_after_s", 60) / 60))
            response = _login_page(request, 429, f"Too many failed sign-ins. Try again in about {minutes} "
                                   "minutes.", username)
            response.headers["Retry-After"] = str(exc.details.get("retry_after_s", 60))
            return response
        user = await run_in_threadpool(accounts.authenticate, st.db, username, password[:1000])
        if user is None:
            await run_in_threadpool(accounts.record_failure, st.db, username, address, settings.login_window_s)
            return _login_page(request, 401, "That username and password do not match an account.", username)
        await run_in_threadpool(accounts.clear_failures, st.db, username, address)
        if user.role not in OFFICE_ROLES:
            return _login_page(request, 403, "The office pages are for office and admin staff. Field officers "
                               "sign in to the field app at /app/.", username)
        token = await run_in_threadpool(session.create, st.db, user)

        def log() -> None:
            with st.db.write() as txn:
                audit.record(txn, user.id, None, "office_sign_in", [], {"address": address})

        await run_in_threadpool(log)
        response = redirect(_safe_next(text_field(data, "next", 2000)))
        session.set_cookie(response, request, session.COOKIE, token, None)
        session.clear_cookie(response, request, session.LOGIN_COOKIE)
        return response
    finally:
        await data.close()


@page
async def logout(request: Request) -> Response:
    st = app_state(request)
    user = me(request).user

    def work() -> None:
        session.end(st.db, request.cookies.get(session.COOKIE))
        with st.db.write() as txn:
            audit.record(txn, user.id, None, "office_sign_out", [])

    await run_in_threadpool(work)
    response = redirect("/office/login?signed_out=1")
    session.clear_cookie(response, request, session.COOKIE)
    return response


routes = [
    Route("/office/login", login_form, methods=["GET"]),
    Route("/office/login", login, methods=["POST"]),
    Route("/office/logout", logout, methods=["POST"]),
]
