"""Marks import in the office: upload a CSV, keep the good rows, report every rejected one.

The import itself is ``server.marks.import_csv`` (the same as the CLI and the
API). Its report is kept in ``office_imports`` so the result has an address:
the form posts, the server imports and redirects to the report. With
JavaScript, ``office.js`` sends the form with upload progress and then opens
the same report.
"""
from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import Actor
from sync.schema import is_uuid

from . import marks
from .figures import BandThresholds
from ..util import now_iso
from ..office.exports import csv_response, csv_text
from ..office.pages import PageError, app_state, form, me, page, redirect, render
from ..office.people import Directory

MAX_UPLOAD_BYTES = 32 * 1024 * 1024
SHOWN_REJECTS = 500
COLUMNS = ("upn", "date", "session", "code")


def _recent(st: Any) -> tuple[list[dict[str, Any]], Directory]:
    with st.db.read() as txn:
        rows = txn.rows("SELECT id, user_id, at, filename, report FROM office_imports ORDER BY at DESC LIMIT 20")
        for r in rows:
            report = orjson.loads(r.pop("report"))
            r["stored"], r["rejected"] = report["stored"], len(report["rejected"])
            r["rows_read"] = report["rows_read"]
        return rows, Directory(txn)


@page
async def upload_form(request: Request) -> Response:
    st = app_state(request)
    recent, directory = await run_in_threadpool(_recent, st)
    return render(request, "marks.html", {"title": "Marks import", "recent": recent, "directory": directory,
                                          "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024), "error": ""},
                  active="marks")


async def _form_error(request: Request, message: str, status: int) -> Response:
    st = app_state(request)
    recent, directory = await run_in_threadpool(_recent, st)
    return render(request, "marks.html", {"title": "Marks import", "recent": recent, "directory": directory,
                                          "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024), "error": message},
                  status=status, active="marks")


@page(max_form_bytes=MAX_UPLOAD_BYTES)
async def upload(request: Request) -> Response:
    st = app_state(request)
    upload_file = form(request).get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return await _form_error(request, "Choose a CSV file of marks to upload.", 422)
    raw = await upload_file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        return await _form_error(request, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.", 413)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await _form_error(request, "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.", 422)
    user = me(request).user
    actor = Actor(user.id, user.role, None)
    bands = BandThresholds(at_risk=st.settings.at_risk_threshold)
    filename = upload_file.filename[:200]

    def work() -> str:
        report = marks.import_csv(st.db, st.clock, text, actor, bands)
        import_id = str(uuid.uuid4())
        with st.db.write() as txn:
            txn.execute("INSERT INTO office_imports (id, user_id, at, filename, report) VALUES (?, ?, ?, ?, ?)",
                        (import_id, user.id, now_iso(), filename, orjson.dumps(report.as_dict()).decode()))
        return import_id

    try:
        import_id = await run_in_threadpool(work)
    except ValueError as exc:
        return await _form_error(request, f"The file cannot be read: {exc}. The first line must be the header "
                                 "upn,date,session,code.", 422)
    return redirect(f"/office/marks/{import_id}")


def _report(st: Any, import_id: str) -> dict[str, Any] | None:
    with st.db.read() as txn:
        rows = txn.rows("SELECT id, user_id, at, filename, report FROM office_imports WHERE id = ?", (import_id,))
        if not rows:
            return None
        row = rows[0]
        return {**row, "report": orjson.loads(row["report"]), "by": Directory(txn).name(row["user_id"])}


def _import_id(request: Request) -> str:
    import_id = request.path_params["import_id"]
    if not is_uuid(import_id):
        raise PageError(404, "Not found", "There is no import with that id.")
    return import_id


@page
async def report_page(request: Request) -> Response:
    st = app_state(request)
    data = await run_in_threadpool(_report, st, _import_id(request))
    if data is None:
        raise PageError(404, "Not found", "There is no import with that id.")
    rejected = data["report"]["rejected"]
    return render(request, "marks_report.html", {
        "title": f"Import of {data['filename']}", "imp": data, "report": data["report"],
        "rejected": rejected[:SHOWN_REJECTS], "more": max(0, len(rejected) - SHOWN_REJECTS)}, active="marks")


@page
async def rejected_csv(request: Request) -> Response:
    st = app_state(request)
    data = await run_in_threadpool(_report, st, _import_id(request))
    if data is None:
        raise PageError(404, "Not found", "There is no import with that id.")
    body = [[r["line"], *(_raw(r["row"]).get(k, "") for k in COLUMNS), r["reason"]]
            for r in data["report"]["rejected"]]
    return csv_response("rejected-rows.csv", csv_text(["line", *COLUMNS, "reason"], body))


def _raw(row: Any) -> dict[str, Any]:
    return row if isinstance(row, dict) else {"upn": str(row)}


routes = [
    Route("/office/marks", upload_form, methods=["GET"]),
    Route("/office/marks", upload, methods=["POST"]),
    Route("/office/marks/{import_id}", report_page, methods=["GET"]),
    Route("/office/marks/{import_id}/rejected.csv", rejected_csv, methods=["GET"]),
]
