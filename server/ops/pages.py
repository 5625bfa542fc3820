"""The admin page for subject access: ``/office/subject-access`` downloads what
``doorstep export subject`` writes (server/ops/subject.py)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN

from ..office.pages import PageError, app_state, form, me, page, render, text_field
from . import subject

TEMPLATE = "subject_access.html"


def _admin(request: Request) -> None:
    if me(request).user.role != ADMIN:
        raise PageError(403, "Admins only", "Subject access exports are for admin staff.")


@page
async def subject_form(request: Request) -> Response:
    _admin(request)
    upn = request.query_params.get("upn", "").strip().upper()  # a link from a pupil's page fills it in
    upn = upn if subject.UPN_RE.fullmatch(upn) else ""
    return render(request, TEMPLATE, {"title": "Subject access export", "upn": upn, "error": ""}, active="subject_access")


@page
async def subject_download(request: Request) -> Response:
    _admin(request)
    raw = text_field(form(request), "upn", 40)
    user = me(request).user
    try:
        data, found = await run_in_threadpool(subject.export, app_state(request).db, raw, user.id,
                                              f"{user.display_name} ({user.username}, office pages)", "office")
    except subject.UnknownPupil as exc:
        status = 422 if not subject.UPN_RE.fullmatch(raw.strip().upper()) else 404
        return render(request, TEMPLATE, {"title": "Subject access export", "upn": raw, "error": f"Not exported: {exc}."},
                      status=status, active="subject_access")
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{subject.filename(found)}"', "Cache-Control": "no-store"})


routes = [
    Route("/office/subject-access", subject_form, methods=["GET"]),
    Route("/office/subject-access", subject_download, methods=["POST"]),
]
