"""What every office page shares: templates, the signed-in ``page`` wrapper, CSRF, errors, audit."""
from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from sync import ADMIN, OFFICE, SyncError
from sync.schema import is_uuid

from .. import audit
from ..errors import ApiError
from ..identity import sessions
from ..state import AppState
from ..storage import Busy, is_busy
from . import labels

log = logging.getLogger("doorstep.office")

OFFICE_ROLES = (OFFICE, ADMIN)
MAX_FORM_BYTES = 64 * 1024

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                          autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True)
_env.filters.update(
    when=labels.when, value=labels.value_text, field_label=labels.field_label,
    hlc_time=labels.hlc_time, year=labels.year_group,
    outcome=lambda v: labels.OUTCOMES.get(v, v or "—"),
    stage=lambda v: labels.STAGE_LABELS.get(v, v or "—"),
    band=lambda v: labels.BANDS.get(v, v or "—"),
    review=lambda v: labels.REVIEW_STATES.get(v or "new", v),
    metres=lambda v: "—" if v is None else (f"{v / 1000:.1f} km" if v >= 10_000 else f"{round(v):,} m"),
    pct=lambda v: "—" if v is None else f"{v:.1f}%",
)
templates = Jinja2Templates(env=_env)

# The office's menu, declared once: (key, href, label, who sees it). The first row holds the
# daily work; the second the occasional tools, then the admin's pages.
NAV = (
    (("overview", "/office/", "Overview", None), ("cases", "/office/cases", "Cases", None),
     ("visits", "/office/visits", "Visit log", None), ("conflicts", "/office/conflicts", "Conflicts", None),
     ("register", "/office/register", "Register", None), ("transport", "/office/transport", "Transport", None),
     ("devices", "/office/devices", "Devices", None)),
    (("legal", "/office/legal", "Legal steps", None), ("targeting", "/office/targeting", "Targeting", None),
     ("praise", "/office/praise", "Praise", None), ("roll", "/office/roll", "School roll", None),
     ("marks", "/office/marks", "Marks import", None), ("export", "/office/export", "Export", None),
     ("users", "/office/users", "Users", "admin"), ("audit", "/office/audit", "Audit log", "admin"),
     ("subject_access", "/office/subject-access", "Subject access", "admin")),
)

Handler = Callable[[Request], Awaitable[Response]]


class PageError(Exception):
    """Stops a page and shows a message with an HTTP status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def app_state(request: Request) -> AppState:
    return request.app.state.doorstep


def me(request: Request) -> sessions.OfficeSession:
    return request.state.office


def uuid_param(request: Request, name: str, what: str) -> str:
    """The path parameter ``name`` when it is a UUID; otherwise the 404 page "There is no <what> with that id"."""
    value = request.path_params[name]
    if not is_uuid(value):
        raise PageError(404, "Not found", f"There is no {what} with that id.")
    return value


def form(request: Request) -> FormData:
    return request.state.form


def render(request: Request, name: str, context: dict[str, Any], status: int = 200,
           active: str = "") -> Response:
    sess: sessions.OfficeSession | None = getattr(request.state, "office", None)
    base = {"me": sess.user if sess else None, "csrf": sess.csrf if sess else "", "nav": NAV,
            "active": active, "csrf_field": sessions.CSRF_FIELD, "open_conflicts": None}
    if sess is not None:
        try:
            base["open_conflicts"] = app_state(request).db.query(
                "SELECT count(*) AS n FROM conflicts WHERE status = 'open'")[0]["n"]
        except Busy:  # only the menu's count is missing
            pass
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def busy_page(request: Request, exc: Busy | None = None) -> Response:
    """503 with ``Retry-After``: the database was busy (a long import, say) and nothing was saved."""
    exc = exc or Busy()
    response = error_page(request, 503, "Busy, try again shortly",
                          "The database is busy (for example with a large import), so nothing was done. "
                          f"Wait {exc.retry_after} seconds, then reload the page or send the form again.")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def page(handler: Handler | None = None, *, max_form_bytes: int = MAX_FORM_BYTES) -> Any:
    """Signed-in office or admin only; every POST must carry the session's CSRF token.

    Use as ``@page`` or ``@page(max_form_bytes=...)`` (an upload form).
    """
    if handler is None:
        return functools.partial(page, max_form_bytes=max_form_bytes)

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        st = app_state(request)
        try:
            sess = await run_in_threadpool(sessions.load, st.db, request.cookies.get(sessions.COOKIE))
        except Busy as exc:
            return busy_page(request, exc)
        if sess is None:
            if request.method != "GET":
                return error_page(request, 403, "Signed out",
                                  "Your session has ended. Sign in again and repeat what you were doing.")
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect("/office/login?next=" + quote(target, safe=""))
        request.state.office = sess
        if sess.user.role not in OFFICE_ROLES:
            return error_page(request, 403, "Not for your role",
                              "The office pages are for office and admin staff.")
        form_data: FormData | None = None
        try:
            if request.method == "POST":
                form_data = await read_form(request, max_form_bytes)
                if not sessions.tokens_match(sess.csrf, form_data.get(sessions.CSRF_FIELD)):
                    return error_page(request, 403, "Form expired",
                                      "This form is missing its security token or the token is out of date. "
                                      "Go back, reload the page and try again.")
            return await handler(request)
        except PageError as exc:
            return error_page(request, exc.status, exc.title, exc.message)
        except ApiError as exc:
            return error_page(request, exc.status, "Not done", exc.message)
        except SyncError as exc:
            return error_page(request, 404 if exc.code == "not_found" else 422, "Not done", exc.message)
        except Busy as exc:
            return busy_page(request, exc)
        except Exception as exc:
            if is_busy(exc):  # a "database is locked" from outside Database.write()
                return busy_page(request)
            log.exception("office page failed: %s %s", request.method, request.url.path)
            return error_page(request, 500, "Something went wrong",
                              "The server could not finish this. Reload the page to see what was saved, and tell "
                              "the system's administrator if it keeps happening.")
        finally:
            if form_data is not None:
                await form_data.close()

    return wrapper


MAX_FORM_FIELDS = 1000


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> FormData:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PageError(413, "Too large", f"This form may send at most {max_bytes // 1024:,} KiB.")
    try:
        data = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_BYTES)
    except HTTPException as exc:  # too many fields or files, a malformed multipart body
        raise PageError(400 if exc.status_code < 500 else 413, "This form could not be read",
                        f"It sent more than this page accepts (at most {MAX_FORM_FIELDS} fields) "
                        "or was not a well-formed form.") from None
    except MultiPartException as exc:
        raise PageError(400, "This form could not be read", str(exc)[:200]) from None
    request.state.form = data
    return data


def text_field(data: FormData, name: str, max_len: int = 200) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        return ""
    return value.strip()[:max_len]


def record_view(st: AppState, user_id: str, pupil_ids: Iterable[str | None], what: str) -> None:
    """Audit an office read of pupil records (every access to a pupil record is auditable)."""
    ids = [i for i in pupil_ids if i]
    if ids:
        with st.db.write() as txn:
            audit.record(txn, user_id, None, "office_view", ids, {"page": what})
