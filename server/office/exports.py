"""CSV downloads: the lists on the office pages, and visits and conversations for a date range."""
from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import audit
from . import labels, log
from .pages import PageError, app_state, form, me, page, render, text_field
from .people import Directory

FORMULA_START = frozenset("=+-@")


def runs_as_formula(text: str) -> bool:
    """Text a spreadsheet may run as a formula: it starts with = + - or @ in any width (NFKC folds
    the full-width ＝ ＋ － ＠ and the small forms into them), or with white space a spreadsheet
    may skip first (a space, a no-break space, a tab, a line feed, a carriage return)."""
    first = text[:1]
    return first.isspace() or unicodedata.normalize("NFKC", first) in FORMULA_START


def cell(value: Any) -> Any:
    """A safe CSV cell: text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and runs_as_formula(value):
        return "'" + value
    if isinstance(value, (list, dict)):
        return cell(labels.value_text(value))
    return value


def csv_text(header: list[str] | None, rows: Iterable[list[Any]]) -> str:
    """CSV with CRLF line ends and every cell neutralised; ``header=None`` for the rows alone
    (a streamed export's later chunks)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def csv_response(filename: str, text: str) -> Response:
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _review(row: log.LogRow, directory: Directory) -> list[Any]:
    return [row.review_state, directory.name(row.review_by) if row.review_by else "", row.review_at,
            row.review_comment]


def log_rows_csv(rows: list[log.LogRow], directory: Directory) -> str:
    header = ["type", "id", "when", "pupil", "pupil_id", "officer", "outcome", "child_seen",
              "safeguarding_concern", "gps_distance_m", "gps_flagged", "out_of_scope", "status",
              "review_state", "reviewed_by", "reviewed_at", "review_comment", "summary"]
    body = []
    for r in rows:
        gps = r.gps
        body.append([r.kind, r.id, r.at, r.pupil_name, r.pupil_id, directory.name(r.officer_id),
                     r.data.get("outcome"), r.data.get("child_seen"), r.data.get("safeguarding_concern"),
                     round(gps.distance_m) if gps and gps.distance_m is not None else None,
                     gps.flagged if gps else None, r.out_of_scope, r.data.get("status"),
                     *_review(r, directory), r.summary])
    return csv_text(header, body)


VISIT_FIELDS = ["status", "planned_for", "started_at", "ended_at", "outcome", "child_seen",
                "safeguarding_concern", "concern_details", "barriers", "notes", "lat", "lon", "accuracy_m",
                "case_id", "household_id"]
CONVERSATION_FIELDS = ["status", "visit_id", "case_id", "spoke_with", "reason_given", "barriers",
                       "parent_view", "next_contact_on"]


def _actions(value: Any) -> str:
    if not isinstance(value, list):
        return ""
    parts = []
    for a in value:
        if isinstance(a, dict):
            extra = ", ".join(x for x in (a.get("owner"), f"due {a['due_on']}" if a.get("due_on") else None) if x)
            parts.append(f"{a.get('action', '')}" + (f" ({extra})" if extra else ""))
    return "; ".join(parts)


def records_csv(kind: str, rows: list[log.LogRow], directory: Directory) -> str:
    names = VISIT_FIELDS if kind == "visit" else CONVERSATION_FIELDS
    header = ["id", "when", "pupil", "pupil_id", "officer", "officer_id", *names]
    if kind == "visit":
        header += ["gps_distance_m", "gps_flagged"]
    else:
        header += ["agreed_actions"]
    header += ["out_of_scope", "review_state", "reviewed_by", "reviewed_at", "review_comment", "received_at",
               "version"]
    body = []
    for r in rows:
        line = [r.id, r.at, r.pupil_name, r.pupil_id, directory.name(r.officer_id), r.officer_id,
                *[r.data.get(n) for n in names]]
        if kind == "visit":
            gps = r.gps
            line += [round(gps.distance_m) if gps and gps.distance_m is not None else None,
                     gps.flagged if gps else None]
        else:
            line += [_actions(r.data.get("agreed_actions"))]
        line += [r.out_of_scope, *_review(r, directory), r.created_at, r.version]
        body.append(line)
    return csv_text(header, body)


@page
async def export_form(request: Request) -> Response:
    today = dt.date.today()
    return render(request, "export.html", {
        "title": "Export", "date_from": (today - dt.timedelta(days=30)).isoformat(), "date_to": today.isoformat(),
        "error": "",
    }, active="export")


@page
async def export(request: Request) -> Response:
    st = app_state(request)
    data = form(request)
    kind = text_field(data, "kind", 20)
    date_from, date_to = text_field(data, "from", 10), text_field(data, "to", 10)
    if kind not in ("visit", "conversation"):
        raise PageError(422, "Not exported", "Choose visits or conversations.")
    try:
        start, end = dt.date.fromisoformat(date_from), dt.date.fromisoformat(date_to)
    except ValueError:
        return render(request, "export.html", {
            "title": "Export", "date_from": date_from, "date_to": date_to,
            "error": "Give both dates, like 2026-11-04."}, status=422, active="export")
    if end < start:
        return render(request, "export.html", {
            "title": "Export", "date_from": date_from, "date_to": date_to,
            "error": "The end date is before the start date."}, status=422, active="export")
    filters = log.LogFilter(kind=kind, date_from=date_from, date_to=date_to)
    user = me(request).user

    def work() -> str:
        with st.db.read() as txn:
            rows = log.search(txn, filters, st.settings.gps_flag_m, None).rows
            text = records_csv(kind, rows, Directory(txn))
        with st.db.write() as txn:
            audit.record(txn, user.id, None, "office_export", [r.pupil_id for r in rows if r.pupil_id],
                         {"kind": kind, "from": date_from, "to": date_to, "rows": len(rows)})
        return text

    text = await run_in_threadpool(work)
    return csv_response(f"{kind}s-{date_from}-to-{date_to}.csv", text)


routes = [
    Route("/office/export", export_form, methods=["GET"]),
    Route("/office/export", export, methods=["POST"]),
]
