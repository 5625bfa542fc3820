"""The office's second-factor pages (docs/users.md): the code step of sign-in (or, the first time
when the setting requires it, setting one up), setting one up while signed in, and exchanging an
admin's one-time reset code for a new password.

Between the password and the code the browser holds a short-lived random token (cookie
``doorstep_office_2fa``, 5 minutes, stored as a SHA-256 hash in ``login_challenges``), good for at
most five codes; only a right code turns it into an office session. The sign-in form's CSRF cookie
protects these forms as it protects the sign-in form.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import audit
from ..errors import ApiError
from ..http import client_address
from ..office.pages import (PageError, app_state, error_page, form, me, page, read_form, redirect, render,
                            text_field)
from ..storage import Database
from ..util import wait_words
from . import accounts, reset, sessions, totp

COOKIE = "doorstep_office_2fa"
CHALLENGE_S = 5 * 60
MAX_ATTEMPTS = 5


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def safe_next(value: str) -> str:
    """Only a path inside the office pages (no open redirect)."""
    if value.startswith("/office/") and not value.startswith("//") and "\\" not in value and len(value) < 2000:
        return value
    return "/office/"


async def pre_session_form(request: Request, handle: Callable[[FormData], Awaitable[Response]],
                           refuse: Callable[[PageError], Response], expired: str) -> Response:
    """A form posted before there is an office session (sign-in, its code step, a password reset):
    read it and check it carries the sign-in form's CSRF token (else ``refuse`` it: 403 ``expired``),
    then ``handle`` it; the form is closed after."""
    try:
        data = await read_form(request)
    except PageError as exc:
        return refuse(exc)
    try:
        if not sessions.tokens_match(request.cookies.get(sessions.LOGIN_COOKIE), data.get(sessions.CSRF_FIELD)):
            return refuse(PageError(403, "Form expired", expired))
        return await handle(data)
    finally:
        await data.close()


# -- the step between password and session -----------------------------------------------------

def _begin(db: Database, user_id: str) -> str:
    token = secrets.token_urlsafe(32)
    now = time.time()
    with db.write() as txn:
        txn.execute("DELETE FROM login_challenges WHERE created_at < ?", (now - CHALLENGE_S,))
        txn.execute("INSERT INTO login_challenges (id_hash, user_id, created_at) VALUES (?, ?, ?)",
                    (_hash(token), user_id, now))
    return token


def _challenged(db: Database, token: str | None) -> accounts.User | None:
    if not token or len(token) > 200:
        return None
    with db.read() as txn:
        rows = txn.rows("SELECT user_id, created_at, attempts FROM login_challenges WHERE id_hash = ?",
                        (_hash(token),))
        if not rows or time.time() - rows[0]["created_at"] > CHALLENGE_S or rows[0]["attempts"] >= MAX_ATTEMPTS:
            return None
        return accounts.get_user(txn, rows[0]["user_id"])


def _failed(db: Database, token: str) -> None:
    with db.write() as txn:
        txn.execute("UPDATE login_challenges SET attempts = attempts + 1 WHERE id_hash = ?", (_hash(token),))


def _end(db: Database, token: str) -> None:
    with db.write() as txn:
        txn.execute("DELETE FROM login_challenges WHERE id_hash = ?", (_hash(token),))


async def start_session(request: Request, user: accounts.User, next_path: str, detail: dict) -> Response:
    """Sign ``user`` in to the office (audited as ``office_sign_in``) and go to ``next_path``."""
    st = app_state(request)
    token = await run_in_threadpool(sessions.create, st.db, user)

    def log() -> None:
        with st.db.write() as txn:
            audit.record(txn, user.id, None, "office_sign_in", [], {"address": client_address(request), **detail})

    await run_in_threadpool(log)
    response = redirect(safe_next(next_path))
    sessions.set_cookie(response, request, sessions.COOKIE, token, None)
    sessions.clear_cookie(response, request, sessions.LOGIN_COOKIE)
    sessions.clear_cookie(response, request, COOKIE)
    return response


async def ask_for_code(request: Request, user: accounts.User, next_path: str) -> Response:
    """After a right password, when the user needs a second factor: on to the code step."""
    token = await run_in_threadpool(_begin, app_state(request).db, user.id)
    response = redirect("/office/login/code?next=" + quote(safe_next(next_path), safe=""))
    sessions.set_cookie(response, request, COOKIE, token, CHALLENGE_S)
    return response


def _code_page(request: Request, user: accounts.User, need: str, secret: str | None, error: str = "",
               status: int = 200) -> Response:
    token = sessions.login_token(request)
    response = render(request, "login_code.html", {
        "title": "Set up a second factor" if need == "enrol" else "Enter your code", "need": need,
        "username": user.username, "login_csrf": token, "error": error,
        "next": safe_next(request.query_params.get("next", "")),
        "secret": totp.grouped(secret) if secret else "", "uri": totp.uri(secret, user.username) if secret else ""},
        status=status)
    response.headers["Cache-Control"] = "no-store"
    sessions.set_cookie(response, request, sessions.LOGIN_COOKIE, token, 2 * 3600)
    return response


async def _secret_for(st, user: accounts.User, need: str) -> str | None:
    if need != "enrol":
        return None
    return (await run_in_threadpool(totp.pending_secret, st.db, user.id)
            or await run_in_threadpool(totp.start_enrolment, st.db, user.id))


async def code_form(request: Request) -> Response:
    st = app_state(request)
    user = await run_in_threadpool(_challenged, st.db, request.cookies.get(COOKIE))
    if user is None:
        return redirect("/office/login")
    need = await run_in_threadpool(totp.needed, st.db, st.settings, user)
    return _code_page(request, user, need, await _secret_for(st, user, need))


async def code(request: Request) -> Response:
    st = app_state(request)

    async def handle(data: FormData) -> Response:
        challenge = request.cookies.get(COOKIE, "")
        user = await run_in_threadpool(_challenged, st.db, challenge)
        if user is None:
            return redirect("/office/login")
        need = await run_in_threadpool(totp.needed, st.db, st.settings, user)
        try:
            await run_in_threadpool(lambda: totp.verify(st.db, user.id, text_field(data, "code", 20),
                                                        pending=need == "enrol"))
        except ApiError as exc:
            await run_in_threadpool(_failed, st.db, challenge)
            if exc.status == 429:
                message = f"Too many wrong codes. Try again in about {wait_words(exc.details.get('retry_after_s', 60))}."
            else:
                message = "That code is wrong or was already used. Enter the current code from your app."
            return _code_page(request, user, need, await _secret_for(st, user, need), message, exc.status)
        await run_in_threadpool(_end, st.db, challenge)
        return await start_session(request, user, text_field(data, "next", 2000),
                                   {"second_factor": "enrolled" if need == "enrol" else "code"})

    return await pre_session_form(request, handle, lambda exc: error_page(request, exc.status, exc.title, exc.message),
                                  "The sign-in form had expired. Please sign in again.")


# -- setting one up while signed in ---------------------------------------------------------------

async def _account_page(request: Request, on: bool, error: str = "", done: bool = False,
                        status: int = 200) -> Response:
    """The signed-in user's second factor: on, or the secret of the one being set up (not cached)."""
    st, user = app_state(request), me(request).user
    secret = None if on else await run_in_threadpool(totp.pending_secret, st.db, user.id)
    response = render(request, "second_factor.html", {
        "title": "Second factor", "on": on, "secret": totp.grouped(secret) if secret else "",
        "uri": totp.uri(secret, user.username) if secret else "", "required": st.settings.require_totp,
        "error": error, "done": done}, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@page
async def account(request: Request) -> Response:
    on = await run_in_threadpool(totp.enabled, app_state(request).db, me(request).user.id)
    return await _account_page(request, on, done=request.query_params.get("done") == "1")


@page
async def account_post(request: Request) -> Response:
    st = app_state(request)
    user = me(request).user
    data = form(request)
    if text_field(data, "action", 10) == "start":
        await run_in_threadpool(totp.start_enrolment, st.db, user.id)
        return redirect("/office/account/second-factor")
    try:
        await run_in_threadpool(lambda: totp.verify(st.db, user.id, text_field(data, "code", 20), pending=True))
    except ApiError as exc:
        return await _account_page(request, False, "That code is wrong. Enter the current code from your app."
                                   if exc.status == 401 else exc.message, status=exc.status)
    return redirect("/office/account/second-factor?done=1")


# -- a one-time reset code for a new password ----------------------------------------------------

def _reset_page(request: Request, status: int = 200, error: str = "", username: str = "",
                done: bool = False) -> Response:
    token = sessions.login_token(request)
    response = render(request, "reset_password.html", {
        "title": "Choose a new password", "login_csrf": token, "error": error, "username": username,
        "done": done, "min_password": accounts.MIN_PASSWORD}, status=status)
    response.headers["Cache-Control"] = "no-store"
    sessions.set_cookie(response, request, sessions.LOGIN_COOKIE, token, 2 * 3600)
    return response


async def reset_form(request: Request) -> Response:
    return _reset_page(request, done=request.query_params.get("done") == "1")


async def reset_post(request: Request) -> Response:
    st = app_state(request)

    async def handle(data: FormData) -> Response:
        username, code_ = text_field(data, "username", 100), text_field(data, "code", 64)
        new, again = data.get("new_password", ""), data.get("new_password_again", "")
        if not username or not code_ or not isinstance(new, str) or not new:
            return _reset_page(request, 422, "Enter your username, the code and a new password.", username)
        if new != again:
            return _reset_page(request, 422, "The two new passwords are not the same.", username)
        try:
            await run_in_threadpool(reset.redeem, st.db, username, code_, new[:accounts.MAX_PASSWORD + 1], "office")
        except ValueError as exc:
            return _reset_page(request, 422, f"The new password is not allowed: {exc}.", username)
        except ApiError:
            return _reset_page(request, 401, "That code is wrong, used or expired. Ask an administrator for a "
                               "new one.", username)
        return redirect("/office/reset-password?done=1")

    return await pre_session_form(request, handle, lambda exc: _reset_page(request, exc.status, exc.message),
                                  "The form had expired. Please try again.")


routes = [
    Route("/office/login/code", code_form, methods=["GET"]),
    Route("/office/login/code", code, methods=["POST"]),
    Route("/office/account/second-factor", account, methods=["GET"]),
    Route("/office/account/second-factor", account_post, methods=["POST"]),
    Route("/office/reset-password", reset_form, methods=["GET"]),
    Route("/office/reset-password", reset_post, methods=["POST"]),
]
