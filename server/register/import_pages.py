"""Marks import in the office: upload a CSV; it imports as a background job, then the report.

The upload is saved beside the database and checked for its header at once (a
file that cannot be read is refused on the form). The import itself runs as a
``marks_import`` job (server/jobs.py) through ``server.register.marks``, the
same code as the CLI and the API, so it survives a restart and never holds the
write lock for more than a slice. ``/office/marks/{id}`` shows its progress
until it is done, then the report; rejected rows are kept in ``import_rejects``.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import jobs
from ..office.exports import csv_response, csv_text
from ..office.pages import app_state, form, me, page, redirect, render, uuid_param
from ..office.people import Directory
from ..state import AppState, is_url
from . import marks
from .report_pages import load_report
from .years import normalise_time

MAX_UPLOAD_BYTES = 256 * 1024 * 1024
SHOWN_REJECTS = 500
COLUMNS = ("upn", "date", "session", "code")
KIND = "marks_import"


def upload_dir(st: AppState) -> Path:
    """Where uploaded files wait for their import job: beside a SQLite database; with PostgreSQL
    (no file of its own here) in the system's temporary folder, so one server's job imports the
    files uploaded to it (several app servers will need one folder they share)."""
    where = st.settings.db_path
    base = Path(tempfile.gettempdir()) / "doorstep" if is_url(where) else Path(os.path.dirname(os.path.abspath(where)))
    folder = base / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """The ``marks_import`` job: the import runs in a process of its own (``doorstep marks
    import`` with this job's import id), so its Python work never competes with the server's
    requests for the interpreter; this thread only waits and reports progress. Resumable: a
    rerun continues after the import's last committed slice."""
    args, st = ctx.args, ctx.state
    cmd = [sys.executable, "-m", "server.cli", "--db", st.settings.db_path, "marks", "import", args["path"],
           "--import-id", ctx.id, "--as-user", args["user_id"], "--role", args["role"],
           "--filename", args.get("filename", ""), "--parent-pid", str(os.getpid())]
    if args.get("extracted_at"):
        cmd += ["--extracted-at", args["extracted_at"]]
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        try:
            while proc.poll() is None:
                time.sleep(0.5)
                ctx.progress(**_progress(ctx.db, ctx.id))
        except BaseException:
            proc.kill()  # the slices it committed stay; the job's next run continues after them
            raise
        err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError((err.strip().splitlines() or [f"the import exited with {proc.returncode}"])[-1])
    Path(args["path"]).unlink(missing_ok=True)
    return _progress(ctx.db, ctx.id)


def _progress(db: Any, import_id: str) -> dict[str, Any]:
    with db.read() as txn:
        row = txn.execute("SELECT report FROM imports WHERE id = ?", (import_id,)).fetchone()
    report = orjson.loads(row[0]) if row else {}
    return {k: report.get(k, 0) for k in ("rows_read", "stored", "rejected_count", "superseded")}


jobs.register(KIND, run_job)


def _recent(st: Any) -> tuple[list[dict[str, Any]], Directory, list[dict[str, Any]]]:
    with st.db.read() as txn:
        rows = txn.rows("SELECT id, user_id, started_at AS at, filename, status, report FROM imports "
                        "WHERE kind = 'marks' ORDER BY no DESC LIMIT 20")
        for r in rows:
            report = orjson.loads(r.pop("report"))
            r["stored"], r["rejected"] = report.get("stored", 0), report.get("rejected_count", 0)
            r["rows_read"] = report.get("rows_read", 0)
        directory = Directory(txn)
    queued = [j for j in jobs.list_recent(st.db, KIND) if j["status"] in ("queued", "running")]
    return rows, directory, queued


async def _form(request: Request, message: str = "", status: int = 200) -> Response:
    st = app_state(request)
    recent, directory, queued = await run_in_threadpool(_recent, st)
    return render(request, "marks.html", {"title": "Marks import", "recent": recent, "directory": directory,
                                          "queued": queued, "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
                                          "error": message}, status=status, active="marks")


@page
async def upload_form(request: Request) -> Response:
    return await _form(request)


def _save(upload_file: UploadFile, target: Path) -> int:
    """Copy the upload to ``target`` a block at a time; returns its size."""
    size = 0
    upload_file.file.seek(0)
    with open(target, "wb") as out:
        while block := upload_file.file.read(1 << 20):
            size += len(block)
            if size > MAX_UPLOAD_BYTES:
                break
            out.write(block)
    return size


def _header_error(path: Path) -> str:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            head = f.readline(4096)
            f.read(1 << 16)  # the start of the file must be UTF-8 too
    except UnicodeDecodeError:
        return "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."
    try:
        marks.check_header(next(csv.reader([head]), None) if head.strip() else None)
    except ValueError as exc:
        return f"The file cannot be read: {exc}. The first line must be the header upn,date,session,code."
    return ""


@page(max_form_bytes=MAX_UPLOAD_BYTES)
async def upload(request: Request) -> Response:
    st = app_state(request)
    data = form(request)
    upload_file = data.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return await _form(request, "Choose a CSV file of marks to upload.", 422)
    extracted_raw = data.get("extracted_at")
    extracted = normalise_time(extracted_raw) if isinstance(extracted_raw, str) and extracted_raw.strip() else None
    if isinstance(extracted_raw, str) and extracted_raw.strip() and extracted is None:
        return await _form(request, "When the extract was taken must be a date and time, e.g. 2026-09-07 16:00.", 422)
    import_id = str(uuid.uuid4())
    target = upload_dir(st) / f"{import_id}.csv"
    size = await run_in_threadpool(_save, upload_file, target)
    if size > MAX_UPLOAD_BYTES:
        target.unlink(missing_ok=True)
        return await _form(request, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.", 413)
    problem = await run_in_threadpool(_header_error, target)
    if problem:
        target.unlink(missing_ok=True)
        return await _form(request, problem, 422)
    user = me(request).user
    args = {"path": str(target), "user_id": user.id, "role": user.role, "filename": upload_file.filename[:200],
            "extracted_at": extracted}
    await run_in_threadpool(lambda: jobs.submit(st.db, KIND, args, user.id, job_id=import_id))
    return redirect(f"/office/marks/{import_id}")


def _report(st: Any, import_id: str) -> dict[str, Any] | None:
    with st.db.read() as txn:
        rows = txn.rows("SELECT id, user_id, started_at AS at, filename, status, report FROM imports WHERE id = ?",
                        (import_id,))
        directory = Directory(txn)
    job = jobs.get(st.db, import_id)
    if not rows:
        if job is None:
            return None
        return {"id": import_id, "filename": job["args"].get("filename", ""), "status": job["status"],
                "job": job, "report": None, "by": directory.name(job["created_by"]) if job["created_by"] else ""}
    row = rows[0]
    return {**row, "report": marks.ImportReport.from_dict(orjson.loads(row["report"])).as_dict(), "job": job,
            "by": directory.name(row["user_id"]) if row["user_id"] else "the system"}


def _import_id(request: Request) -> str:
    return uuid_param(request, "import_id", "import")


@page
async def report_page(request: Request) -> Response:
    st = app_state(request)
    data = await load_report(request, _report, _import_id(request), "import")
    job = data["job"]
    failed = job is not None and job["status"] == "failed"
    if data["report"] is None or data["status"] != "done":
        return render(request, "marks_progress.html", {
            "title": f"Importing {data['filename']}", "imp": data, "report": data["report"], "job": job,
            "failed": failed}, active="marks")
    rejected = await run_in_threadpool(marks.rejected_rows, st.db, data["id"], SHOWN_REJECTS)
    report = data["report"]
    return render(request, "marks_report.html", {
        "title": f"Import of {data['filename']}", "imp": data, "report": report,
        "rejected": rejected, "more": max(0, report["rejected_count"] - len(rejected))}, active="marks")


@page
async def rejected_csv(request: Request) -> Response:
    st = app_state(request)
    import_id = _import_id(request)
    rows = await run_in_threadpool(marks.rejected_rows, st.db, import_id)
    body = [[r["line"], *(_raw(r["row"]).get(k, "") for k in COLUMNS), r["reason"]] for r in rows]
    return csv_response("rejected-rows.csv", csv_text(["line", *COLUMNS, "reason"], body))


def _raw(row: Any) -> dict[str, Any]:
    return row if isinstance(row, dict) else {"upn": str(row)}


routes = [
    Route("/office/marks", upload_form, methods=["GET"]),
    Route("/office/marks", upload, methods=["POST"]),
    Route("/office/marks/{import_id}", report_page, methods=["GET"]),
    Route("/office/marks/{import_id}/rejected.csv", rejected_csv, methods=["GET"]),
]
