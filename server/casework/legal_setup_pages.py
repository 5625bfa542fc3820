"""Setting up the legal steps in the office: the term dates (the authority's and a school's own,
entered or imported from CSV) and the letter templates (edited, checked, every version kept)."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from .. import audit
from ..office.pages import PageError, app_state, form, me, page, redirect, render, text_field
from ..office.people import entity
from ..state import AppState
from ..util import now_iso
from . import legal, letters
from .school_calendar import CSV_COLUMNS, Period, check_period, parse_csv

MAX_CSV_BYTES = 256 * 1024
DONE = {"added": "Term dates saved.", "removed": "Removed.", "saved": "Template saved as a new version."}


def _calendar(st: AppState) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with st.db.read() as txn:
        schools = txn.rows("SELECT id, json_extract(data, '$.name') AS name FROM schools WHERE deleted = 0 ORDER BY name")
        return legal.term_rows(txn), schools


async def _calendar_page(request: Request, errors: list[str], status: int = 200) -> Response:
    rows, schools = await run_in_threadpool(_calendar, app_state(request))
    return render(request, "casework_legal_calendar.html", {
        "title": "Term dates", "rows": rows, "schools": schools, "errors": errors, "columns": ",".join(CSV_COLUMNS),
        "done": "" if errors else DONE.get(request.query_params.get("done", ""), "")}, status=status, active="legal")


@page
async def calendar(request: Request) -> Response:
    return await _calendar_page(request, [])


def _add(st: AppState, user_id: str, rows: list[tuple[str | None, Period]]) -> None:
    with st.db.write() as txn:
        at = now_iso()
        txn.executemany("INSERT INTO term_dates (school_id, kind, starts_on, ends_on, name, created_at, created_by) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(school, p.kind, p.starts_on.isoformat(), p.ends_on.isoformat(), p.name, at, user_id)
                              for school, p in rows])
        audit.record(txn, user_id, None, "term_dates", [], {"added": len(rows)})


def _school_ok(st: AppState, school_id: str) -> bool:
    with st.db.read() as txn:
        return entity(txn, "schools", school_id) is not None


@page
async def add_term(request: Request) -> Response:
    st, data = app_state(request), form(request)
    school = text_field(data, "school_id", 36).lower()
    period, errors = check_period(text_field(data, "kind", 10), text_field(data, "starts_on", 10),
                                  text_field(data, "ends_on", 10), text_field(data, "name", 100))
    if school and not (is_uuid(school) and await run_in_threadpool(_school_ok, st, school)):
        errors.append("choose a school from the list, or none for the authority's dates")
    if errors or period is None:
        return await _calendar_page(request, [e[:1].upper() + e[1:] + "." for e in errors], 422)
    await run_in_threadpool(_add, st, me(request).user.id, [(school or None, period)])
    return redirect("/office/legal/calendar?done=added")


def _by_urn(st: AppState) -> dict[str, str]:
    with st.db.read() as txn:
        return legal.school_by_urn(txn)


@page(max_form_bytes=MAX_CSV_BYTES)
async def import_terms(request: Request) -> Response:
    st = app_state(request)
    upload = form(request).get("file")
    if not isinstance(upload, UploadFile):
        return await _calendar_page(request, ["Choose a CSV file of term dates."], 422)
    raw = await upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await _calendar_page(request, ["The file is not UTF-8 text."], 422)
    rows, errors = parse_csv(text)
    urns = await run_in_threadpool(_by_urn, st)
    resolved: list[tuple[str | None, Period]] = []
    for urn, period in rows:
        if urn and urn not in urns:
            errors.append(f"no school has URN {urn}")
        else:
            resolved.append((urns.get(urn), period))
    if errors or not resolved:
        return await _calendar_page(request, (errors or ["The file has no rows."])[:50], 422)
    await run_in_threadpool(_add, st, me(request).user.id, resolved)
    return redirect("/office/legal/calendar?done=added")


def _remove(st: AppState, user_id: str, term_id: int) -> bool:
    with st.db.write() as txn:
        gone = txn.execute("DELETE FROM term_dates WHERE id = ?", (term_id,)).rowcount
        if gone:
            audit.record(txn, user_id, None, "term_dates", [], {"removed": term_id})
        return bool(gone)


@page
async def remove_term(request: Request) -> Response:
    raw = request.path_params["term_id"]
    if not raw.isdigit() or not await run_in_threadpool(_remove, app_state(request), me(request).user.id, int(raw)):
        raise PageError(404, "Not found", "There are no such term dates.")
    return redirect("/office/legal/calendar?done=removed")


def _templates(st: AppState) -> list[dict[str, Any]]:
    with st.db.read() as txn:
        out = []
        for kind in legal.KINDS:
            version, body = letters.template(txn, kind)
            out.append({"kind": kind, "words": legal.KIND_WORDS[kind], "version": version, "body": body,
                        "fields": sorted(letters.FIELDS[kind])})
        return out


async def _templates_page(request: Request, errors: list[str], edited: dict[str, str], status: int = 200) -> Response:
    rows = await run_in_threadpool(_templates, app_state(request))
    for r in rows:
        r["body"] = edited.get(r["kind"], r["body"])
    return render(request, "casework_legal_templates.html", {
        "title": "Letter templates", "rows": rows, "errors": errors,
        "done": "" if errors else DONE.get(request.query_params.get("done", ""), "")}, status=status, active="legal")


@page
async def templates(request: Request) -> Response:
    return await _templates_page(request, [], {})


@page
async def save_template(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind not in legal.KINDS:
        raise PageError(404, "Not found", "There is no such letter.")
    body = text_field(form(request), "body", letters.MAX_TEMPLATE + 1)
    errors = letters.check_template(kind, body)
    if errors:
        return await _templates_page(request, errors, {kind: body}, 422)
    await run_in_threadpool(letters.save_template, app_state(request), me(request).user, kind, body)
    return redirect("/office/legal/templates?done=saved")


routes = [
    Route("/office/legal/calendar", calendar, methods=["GET"]),
    Route("/office/legal/calendar", add_term, methods=["POST"]),
    Route("/office/legal/calendar/import", import_terms, methods=["POST"]),
    Route("/office/legal/calendar/{term_id}/delete", remove_term, methods=["POST"]),
    Route("/office/legal/templates", templates, methods=["GET"]),
    Route("/office/legal/templates/{kind}", save_template, methods=["POST"]),
]
