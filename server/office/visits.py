"""The visit log: every synced visit and conversation, its detail and history, and its review."""
from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import Actor, server_stamp
from sync.notices import put_review, review_id

from .. import audit
from ..util import now_iso
from . import labels, log
from .exports import csv_response, log_rows_csv
from .pages import (PageError, app_state, form, me, page, record_view, redirect, render, text_field,
                    uuid_param)
from .people import Directory, entity, history, pupil_name

TABLES = {"visit": "visits", "conversation": "conversations"}
PATHS = {"visit": "visits", "conversation": "conversations"}
MAX_COMMENT = 2000


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


@page
async def visit_log(request: Request) -> Response:
    st = app_state(request)
    filters, problems = log.LogFilter.from_query(request.query_params)
    limit = st.settings.gps_flag_m
    number = _page_number(request)

    def work() -> dict[str, Any]:
        with st.db.read() as txn:
            result = log.search(txn, filters, limit, number)
            directory = Directory(txn)
        return {"result": result, "directory": directory}

    data = await run_in_threadpool(work)
    result: log.LogPage = data["result"]
    await run_in_threadpool(record_view, st, me(request).user.id, [r.pupil_id for r in result.rows],
                            "visit log")
    return render(request, "visits.html", {
        "title": "Visit log", "filters": filters, "problems": problems, "result": result,
        "directory": data["directory"], "gps_limit": limit, "outcomes": labels.OUTCOMES,
        "review_states": labels.REVIEW_STATES, "kinds": labels.KINDS, "paths": PATHS,
    }, active="visits")


@page
async def visit_log_csv(request: Request) -> Response:
    st = app_state(request)
    filters, _ = log.LogFilter.from_query(request.query_params)

    def work() -> tuple[list[log.LogRow], Directory]:
        with st.db.read() as txn:
            return log.search(txn, filters, st.settings.gps_flag_m, None).rows, Directory(txn)

    rows, directory = await run_in_threadpool(work)
    await run_in_threadpool(record_view, st, me(request).user.id, [r.pupil_id for r in rows], "visit log CSV")
    return csv_response("visit-log.csv", log_rows_csv(rows, directory))


def _detail(st: Any, kind: str, id_: str) -> dict[str, Any] | None:
    with st.db.read() as txn:
        row = log.one(txn, kind, id_, st.settings.gps_flag_m)
        if row is None:
            return None
        directory = Directory(txn)
        case = entity(txn, "cases", row.case_id)
        pupil = entity(txn, "pupils", row.pupil_id)
        household_id = row.data.get("household_id") if kind == "visit" else (pupil or {}).get("household_id")
        household = entity(txn, "households", household_id)
        school = entity(txn, "schools", (pupil or {}).get("school_id"))
        visit = entity(txn, "visits", row.data.get("visit_id")) if kind == "conversation" else None
        conversations = [] if kind == "conversation" else txn.rows(
            "SELECT id FROM conversations WHERE deleted = 0 AND json_extract(data, '$.visit_id') = ?", (id_,))
        notes = txn.rows(
            "SELECT id, data, created_at, created_by FROM notes WHERE deleted = 0 AND subject_id = ? "
            "ORDER BY created_at", (id_,))
        reviews = txn.rows("SELECT state, comment, user_id, at FROM review_history WHERE entity_id = ? "
                           "ORDER BY id DESC", (id_,))
        conflicts = txn.rows("SELECT id, field FROM conflicts WHERE entity_id = ? AND status = 'open'", (id_,))
        versions = history(txn, kind, id_, directory)
        synced = txn.get("review", [review_id(id_)]).get(review_id(id_))  # what the officer's phone has
        answered = synced.fields if synced is not None and synced.fields.get("answered_id") else None
        refs = _refs(txn, row.data, case, household)
    return {"row": row, "directory": directory, "case": case, "pupil": pupil, "household": household,
            "school": school, "visit": visit, "conversations": conversations, "refs": refs,
            "notes": [{**orjson.loads(n["data"]), "created_at": n["created_at"], "created_by": n["created_by"]}
                      for n in notes],
            "reviews": reviews, "conflicts": conflicts, "history": versions, "answered": answered}


def case_words(case: dict[str, Any]) -> str:
    """A case as the office names it: its stage and status in words ("Support, open")."""
    return (f"{labels.value_text(case.get('stage'), 'stage')}, "
            f"{labels.value_text(case.get('status'), 'status').lower()}")


def _refs(txn: Any, data: dict[str, Any], case: dict[str, Any] | None,
          household: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    """Words and a link for each record a visit or conversation names by id (case, household, the
    visit it was held during, the record it follows up), so the page never shows a bare id."""
    out: dict[str, dict[str, str]] = {}
    if case is not None:
        out[case["id"]] = {"text": case_words(case), "href": f"/office/cases/{case['id']}"}
    if household is not None:
        out[household["id"]] = {"text": ", ".join(x for x in (household.get("address"), household.get("postcode"))
                                                  if x) or "an address not given", "href": ""}
    for name in ("visit_id", "follow_up_of"):
        ref = data.get(name)
        for kind, table in TABLES.items():
            other = entity(txn, table, ref) if isinstance(ref, str) and ref not in out else None
            if other is not None:
                at = other.get("started_at") or other.get("_created_at")
                out[ref] = {"text": f"the {labels.KINDS[kind].lower()} of {labels.when(at)}",
                            "href": f"/office/{PATHS[kind]}/{ref}"}
    return out


def _kind_and_id(request: Request) -> tuple[str, str]:
    kind = "visit" if request.url.path.startswith("/office/visits/") else "conversation"
    return kind, uuid_param(request, "record_id", kind).lower()


@page
async def detail(request: Request) -> Response:
    kind, id_ = _kind_and_id(request)
    return await _detail_page(request, kind, id_)


async def _detail_page(request: Request, kind: str, id_: str, *, error: str = "",
                       entered: dict[str, str] | None = None) -> Response:
    """The detail page; with ``error``, answered 422 with the review form as it was sent and the
    reason beside it (a review that could not be saved stays on its visit)."""
    st = app_state(request)
    data = await run_in_threadpool(_detail, st, kind, id_)
    if data is None:
        raise PageError(404, "Not found", f"There is no {kind} with that id.")
    await run_in_threadpool(record_view, st, me(request).user.id, [data["row"].pupil_id, id_], f"{kind} detail")
    row: log.LogRow = data["row"]
    fields = [(name, row.data.get(name)) for name in _FIELD_ORDER[kind] if name in row.data]
    fields += [(k, v) for k, v in row.data.items() if k not in _FIELD_ORDER[kind]]
    title = f"{labels.KINDS[kind]}: {pupil_name(data['pupil'])}"
    return render(request, "visit_detail.html", {
        "title": title, "kind": kind, "path": PATHS[kind], "fields": fields, "gps_limit": st.settings.gps_flag_m,
        "review_states": labels.REVIEW_STATES, "saved": request.query_params.get("saved", ""),
        "agencies": labels.AGENCIES,  # an agreed action's owner may be an agency's code
        "pupil_name": pupil_name(data["pupil"]), "error": error, "entered": entered or {}, **data,
    }, status=422 if error else 200, active="visits")


_FIELD_ORDER = {
    "visit": ("status", "planned_for", "started_at", "ended_at", "outcome", "child_seen",
              "safeguarding_concern", "concern_details", "barriers", "notes", "officer_id", "lat", "lon",
              "accuracy_m", "case_id", "household_id"),
    "conversation": ("status", "spoke_with", "reason_given", "barriers", "parent_view", "agreed_actions",
                     "next_contact_on", "visit_id", "case_id"),
}


@page
async def review(request: Request) -> Response:
    st = app_state(request)
    kind, id_ = _kind_and_id(request)
    data = form(request)
    state = text_field(data, "state", 40)
    comment = text_field(data, "comment", MAX_COMMENT + 1)
    problem = ""
    if state not in labels.REVIEW_STATES:
        problem = "Choose a review state: new, reviewed or needs follow-up."
    elif len(comment) > MAX_COMMENT:
        problem = f"The comment may be at most {MAX_COMMENT:,} characters."
    elif state == "needs_follow_up" and not comment:
        problem = "Say in the comment what follow-up is needed."
    if problem:  # back on the visit, the form as sent, the reason next to it
        return await _detail_page(request, kind, id_, error=problem,
                                  entered={"state": state, "comment": comment[:MAX_COMMENT]})
    user = me(request).user

    def work() -> bool:
        with st.db.write() as txn:
            if not txn.rows(f"SELECT 1 FROM {TABLES[kind]} WHERE id = ? AND deleted = 0", (id_,)):
                return False
            at = now_iso()
            txn.execute("INSERT OR REPLACE INTO reviews (entity_id, type, state, comment, user_id, at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (id_, kind, state, comment, user.id, at))
            txn.execute("INSERT INTO review_history (entity_id, type, state, comment, user_id, at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (id_, kind, state, comment, user.id, at))
            # the review as a synced record its officer reads (docs/protocol.md §7.7)
            row = log.one(txn, kind, id_, st.settings.gps_flag_m)
            put_review(txn, Actor(user.id, user.role, None), kind, id_, state=state, comment=comment,
                       case_id=row.case_id if row else None, officer_id=row.officer_id if row else None,
                       reviewer_name=user.display_name, stamp=server_stamp(txn, st.clock), now_iso=at)
            audit.record(txn, user.id, None, "office_review", [id_], {"state": state})
            return True

    if not await run_in_threadpool(work):
        raise PageError(404, "Not found", f"There is no {kind} with that id.")
    return redirect(f"/office/{PATHS[kind]}/{id_}?saved=review#review")


routes = [
    Route("/office/visits", visit_log, methods=["GET"]),
    Route("/office/visits.csv", visit_log_csv, methods=["GET"]),
    Route("/office/visits/{record_id}", detail, methods=["GET"]),
    Route("/office/conversations/{record_id}", detail, methods=["GET"]),
    Route("/office/visits/{record_id}/review", review, methods=["POST"]),
    Route("/office/conversations/{record_id}/review", review, methods=["POST"]),
]
