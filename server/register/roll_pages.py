"""The school roll in the office: upload a roll CSV, see a dry run, confirm; open alerts.

The import is ``server.register.roll`` (the same as ``doorstep roll import``).
Uploading always runs a dry run first, as a background job (``roll_check``: a
whole authority's roll takes most of a minute): the file is kept (compressed)
in ``roll_uploads``, the report page refreshes itself until the check is done,
then says what would change and how many pupils a full roll would mark as
left, and only "Import" writes (the ``roll_import`` job). A full roll that would mark more than 10% of a school's pupils as left
needs "import anyway" ticked (the CLI's ``--force``).
"""
from __future__ import annotations

import datetime as dt
import io
import uuid
import zlib
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import Actor

from .. import jobs
from ..office.exports import csv_response, csv_text
from ..office.pages import app_state, form, me, page, record_view, redirect, render, text_field, uuid_param
from ..office.people import Directory
from ..util import now_iso
from . import roll
from .report_pages import load_report

MAX_UPLOAD_BYTES = 128 * 1024 * 1024
SHOWN_REJECTS = 500
SHOWN_ALERTS = 50
KEEP_UNCONFIRMED = dt.timedelta(days=2)  # an upload not confirmed by then is dropped
COLUMNS = ("upn", "first_name", "last_name", "urn")


def _overview(st: Any) -> dict[str, Any]:
    with st.db.read() as txn:
        uploads = txn.rows("SELECT id, user_id, at, filename, options, status, report FROM roll_uploads "
                           "ORDER BY at DESC LIMIT 20")
        for u in uploads:
            report = orjson.loads(u.pop("report"))
            u["options"] = orjson.loads(u["options"])
            u["rows_read"] = report.get("rows_read", 0)
            u["rejected"] = report.get("rejected_total", 0)
            u["left"] = report.get("pupils_left", 0)
        directory = Directory(txn)
    alerts = roll.open_alerts(st.db, SHOWN_ALERTS)
    return {"uploads": uploads, "directory": directory, "alerts": alerts,
            "open_alerts": roll.count_open_alerts(st.db)}


def _form(request: Request, error: str = "", status: int = 200, values: dict[str, Any] | None = None) -> Any:
    async def show() -> Response:
        st = app_state(request)
        data = await run_in_threadpool(_overview, st)
        user = me(request).user
        await run_in_threadpool(record_view, st, user.id, [a["pupil_id"] for a in data["alerts"]], "roll alerts")
        return render(request, "roll.html", {
            "title": "School roll", **data, "error": error, "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            "values": values or {"full": False, "date": dt.date.today().isoformat()},
            "limit_pct": f"{roll.LEAVER_LIMIT:.0%}"}, status=status, active="roll")
    return show()


@page
async def roll_form(request: Request) -> Response:
    return await _form(request)


@page(max_form_bytes=MAX_UPLOAD_BYTES)
async def upload(request: Request) -> Response:
    st = app_state(request)
    data = form(request)
    full = data.get("full") == "yes"
    day = text_field(data, "date", 10)
    values = {"full": full, "date": day}
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        return await _form(request, "Give the file's date as a date (the day the school's system made it).", 422,
                           values)
    upload_file = data.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return await _form(request, "Choose a roll CSV file to upload.", 422, values)
    raw = await upload_file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        return await _form(request, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.", 413, values)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await _form(request, "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.", 422,
                           values)
    try:
        next(roll.read_csv(io.StringIO(text)), None)  # the header now; the rest in the check
    except ValueError as exc:
        return await _form(request, f"The file cannot be read: {exc}.", 422, values)
    user = me(request).user
    filename = upload_file.filename[:200]

    def work() -> str:
        upload_id = str(uuid.uuid4())
        stale = (dt.datetime.now(dt.timezone.utc) - KEEP_UNCONFIRMED).strftime("%Y-%m-%dT%H:%M:%S")
        with st.db.write() as txn:
            txn.execute("UPDATE roll_uploads SET content = NULL, status = 'expired' "
                        "WHERE status = 'checked' AND at < ?", (stale,))
            txn.execute("INSERT INTO roll_uploads (id, user_id, at, filename, options, status, content) "
                        "VALUES (?, ?, ?, ?, ?, 'checking', ?)",
                        (upload_id, user.id, now_iso(), filename, orjson.dumps(values).decode(),
                         zlib.compress(raw, 6)))
            jobs.enqueue(txn, CHECK, {"upload_id": upload_id, "user_id": user.id, "role": user.role}, user.id,
                         job_id=upload_id)
        jobs.wake()
        return upload_id

    upload_id = await run_in_threadpool(work)
    return redirect(f"/office/roll/{upload_id}")


CHECK = "roll_check"


def check_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """The ``roll_check`` job: the dry run of an upload. It writes nothing but the upload's
    report, so a job resumed after a crash simply runs again."""
    upload_id = ctx.args["upload_id"]
    with ctx.db.read() as txn:
        row = txn.execute("SELECT options, content FROM roll_uploads WHERE id = ? AND status = 'checking'",
                          (upload_id,)).fetchone()
    if row is None or row[1] is None:
        return {"skipped": True}
    options = orjson.loads(row[0])
    try:
        text = zlib.decompress(row[1]).decode("utf-8-sig")
        report = roll.import_text(ctx.db, ctx.state.clock, text, dry_run=True, full=bool(options.get("full")),
                                  on=options.get("date"), actor=Actor(ctx.args["user_id"], ctx.args["role"], None),
                                  progress=lambda r: ctx.progress(rows_read=r.rows_read))
    except ValueError as exc:
        with ctx.db.write() as txn:
            txn.execute("UPDATE roll_uploads SET status = 'unreadable', content = NULL, report = ? WHERE id = ?",
                        (orjson.dumps({"error": f"The file cannot be read: {exc}."}).decode(), upload_id))
        return {"unreadable": str(exc)}
    with ctx.db.write() as txn:
        txn.execute("UPDATE roll_uploads SET status = 'checked', report = ? WHERE id = ? AND status = 'checking'",
                    (orjson.dumps(report.as_dict()).decode(), upload_id))
    return {"rows_read": report.rows_read}


jobs.register(CHECK, check_job)


def _upload(st: Any, upload_id: str) -> dict[str, Any] | None:
    with st.db.read() as txn:
        rows = txn.rows("SELECT id, user_id, at, filename, options, status, report, applied_at FROM roll_uploads "
                        "WHERE id = ?", (upload_id,))
        if not rows:
            return None
        row = rows[0]
        return {**row, "options": orjson.loads(row["options"]), "report": orjson.loads(row["report"]),
                "by": Directory(txn).name(row["user_id"])}


def _upload_id(request: Request) -> str:
    return uuid_param(request, "upload_id", "roll upload")


async def _show(request: Request, upload_id: str, error: str = "", status: int = 200) -> Response:
    st = app_state(request)
    data = await load_report(request, _upload, upload_id, "roll upload")
    report = data["report"]
    rejected = report.get("rejected", [])
    await run_in_threadpool(record_view, st, me(request).user.id, [a["pupil_id"] for a in report.get("alerts", [])],
                            "roll report")
    job = await run_in_threadpool(jobs.get, st.db, upload_id) if data["status"] == "checking" else None
    return render(request, "roll_report.html", {
        "title": f"Roll {data['filename']}", "up": data, "report": report,
        "checked_rows": ((job or {}).get("progress") or {}).get("rows_read", 0),
        "leaving": [s for s in report.get("leaving", []) if s.get("leaving")],
        "rejected": rejected[:SHOWN_REJECTS], "more": max(0, report.get("rejected_total", 0) - SHOWN_REJECTS),
        "error": error or (report.get("apply_error", "") if data["status"] == "checked" else ""),
        "limit_pct": f"{roll.LEAVER_LIMIT:.0%}"}, status=status, active="roll")


@page
async def report_page(request: Request) -> Response:
    return await _show(request, _upload_id(request))


KIND = "roll_import"


def run_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """The ``roll_import`` job: imports a checked upload. Importing a roll again changes nothing,
    so a job resumed after a crash simply runs again."""
    args, st = ctx.args, ctx.state
    upload_id = args["upload_id"]
    with ctx.db.read() as txn:
        row = txn.execute("SELECT options, content, report FROM roll_uploads WHERE id = ? AND status = 'applying'",
                          (upload_id,)).fetchone()
    if row is None or row[1] is None:
        return {"skipped": True}
    options, checked = orjson.loads(row[0]), orjson.loads(row[2])
    try:
        text = zlib.decompress(row[1]).decode("utf-8-sig")
        report = roll.import_text(ctx.db, st.clock, text, actor=Actor(args["user_id"], args["role"], None),
                                  full=bool(options.get("full")), force=bool(args.get("force")),
                                  on=options.get("date"),
                                  progress=lambda r: ctx.progress(rows_read=r.rows_read))
    except Exception as exc:
        _back_to_checked(ctx.db, upload_id, checked, f"The import stopped: {exc}")
        raise
    if report.refused:
        _back_to_checked(ctx.db, upload_id, checked, f"Not imported: {report.refusal}")
    else:
        with ctx.db.write() as txn:
            txn.execute("UPDATE roll_uploads SET status = 'applied', content = NULL, report = ?, applied_at = ? "
                        "WHERE id = ?", (orjson.dumps(report.as_dict()).decode(), now_iso(), upload_id))
    return {"refused": report.refused}


def _back_to_checked(db: Any, upload_id: str, checked: dict[str, Any], error: str) -> None:
    with db.write() as txn:
        txn.execute("UPDATE roll_uploads SET status = 'checked', report = ? WHERE id = ?",
                    (orjson.dumps({**checked, "apply_error": error}).decode(), upload_id))


jobs.register(KIND, run_job)


@page
async def apply(request: Request) -> Response:
    """Confirm a checked upload: refused at once when the check found more than the limit of a
    school leaving and force is not ticked; otherwise imported as a background job."""
    st = app_state(request)
    upload_id = _upload_id(request)
    force = form(request).get("force") == "yes"
    user = me(request).user

    def work() -> str:
        with st.db.write() as txn:
            row = txn.execute("SELECT report FROM roll_uploads WHERE id = ? AND status = 'checked' "
                              "AND content IS NOT NULL", (upload_id,)).fetchone()
            if row is None:
                return ""  # imported already (or being imported, or expired): the page says which
            checked = orjson.loads(row[0])
            if checked.get("refused") and not force:
                return checked.get("refusal") or "too many pupils would be marked as left"
            txn.execute("UPDATE roll_uploads SET status = 'applying' WHERE id = ?", (upload_id,))
        jobs.submit(st.db, KIND, {"upload_id": upload_id, "force": force, "user_id": user.id, "role": user.role},
                    user.id)
        return ""

    refusal = await run_in_threadpool(work)
    if refusal:
        return await _show(request, upload_id, f"Not imported: {refusal}", 409)
    return redirect(f"/office/roll/{upload_id}")


@page
async def rejected_csv(request: Request) -> Response:
    data = await load_report(request, _upload, _upload_id(request), "roll upload")
    body = [[r["line"], *((r.get("row") or {}).get(k, "") for k in COLUMNS), r["reason"]]
            for r in data["report"].get("rejected", [])]
    return csv_response("rejected-roll-rows.csv", csv_text(["line", *COLUMNS, "reason"], body))


@page
async def resolve(request: Request) -> Response:
    st = app_state(request)
    alert_id = uuid_param(request, "alert_id", "alert")
    await run_in_threadpool(roll.resolve_alert, st.db, alert_id, me(request).user.id)
    return redirect("/office/roll#alerts")


routes = [
    Route("/office/roll", roll_form, methods=["GET"]),
    Route("/office/roll", upload, methods=["POST"]),
    Route("/office/roll/alerts/{alert_id}/resolve", resolve, methods=["POST"]),
    Route("/office/roll/{upload_id}", report_page, methods=["GET"]),
    Route("/office/roll/{upload_id}/apply", apply, methods=["POST"]),
    Route("/office/roll/{upload_id}/rejected.csv", rejected_csv, methods=["GET"]),
]
