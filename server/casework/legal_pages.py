"""The legal steps in the office: a case's Notices to Improve, penalty notices and letters
(/office/cases/{id}/legal), and what is due (/office/legal). Term dates and letter templates
are in legal_setup_pages.py."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from ..errors import ApiError
from ..office.pages import (PageError, app_state, form, me, page, record_view, redirect, render, text_field,
                            uuid_param)
from ..office.people import entity, pupil_name
from ..state import AppState
from ..util import today
from . import legal, legal_rules, legal_writes, letters
from .legal_writes import Parent

DONE = {"nti": "Notice to Improve issued to each parent named.", "outcome": "Outcome recorded.",
        "requested": "Penalty notice requested: it waits for the authority's review.",
        "refused": "Refused: this parent has had 2 penalty notices for this child in the last 3 years.",
        "approved": "Approved.", "issued": "Penalty notice issued.", "recorded": "Recorded.",
        "letter": "Letter printed and kept with the case."}


def _case_view(st: AppState, case_id: str) -> dict[str, Any] | None:
    with st.db.read() as txn:
        case = entity(txn, "cases", case_id)
        if case is None:
            return None
        pupil = entity(txn, "pupils", case.get("pupil_id")) or {}
        return {"case": case, "pupil": pupil, "name": pupil_name(pupil),
                "school": (entity(txn, "schools", pupil.get("school_id")) or {}).get("name", ""),
                "notices": legal.notices_of_case(txn, case_id), "parents": legal.parents(txn, case),
                "attendance": legal.attendance_record(txn, case["pupil_id"]),
                "support": legal.support_offered(txn, case_id),
                "sessions": legal.unauthorised_sessions(txn, case["pupil_id"])}


async def _case_page(request: Request, case_id: str, errors: list[str], status: int = 200) -> Response:
    st = app_state(request)
    data = await run_in_threadpool(_case_view, st, case_id)
    if data is None:
        raise PageError(404, "Not found", "There is no case with that id.")
    await run_in_threadpool(record_view, st, me(request).user.id, [data["case"]["pupil_id"], case_id], "legal steps")
    cfg = st.settings.legal
    return render(request, "casework_legal_case.html", {
        "title": f"Legal steps: {data['name']}", "errors": errors, "today": today().isoformat(),
        "done": "" if errors else DONE.get(request.query_params.get("done", ""), ""), "cfg": cfg,
        "may_issue": legal_writes.may_issue(st, me(request).user), "cap_words": legal_rules.cap_words(),
        **data}, status=status, active="legal")


def _words(exc: ApiError) -> list[str]:
    extra = exc.details.get("sessions")
    return [exc.message[:1].upper() + exc.message[1:] + (": " + ", ".join(extra) if extra else "") + "."]


async def _do(request: Request, case_id: str, fn: Any, *args: Any) -> Any:
    """Run a write; its refusal re-shows the case's page with the reason."""
    try:
        return await run_in_threadpool(fn, *args)
    except ApiError as exc:
        raise _Shown(await _case_page(request, case_id, _words(exc), exc.status)) from None


class _Shown(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _shown(handler: Any) -> Any:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except _Shown as shown:
            return shown.response
    run.__name__ = handler.__name__
    return page(run)


def _date(raw: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "validation_failed", f"give {what} as a date like 2026-11-04") from None


def _parent(request: Request, prefix: str) -> tuple[str, str, str]:
    data = form(request)
    person = text_field(data, f"{prefix}person_id", 36)
    return (person if is_uuid(person) else "", text_field(data, f"{prefix}name", 200),
            text_field(data, f"{prefix}address", 500))


def _parents(st: AppState, raw: list[tuple[str, str, str]]) -> list[Parent]:
    with st.db.read() as txn:
        return [legal_writes.resolve_parent(txn, *p) for p in raw if any(p)]


@page
async def case_legal(request: Request) -> Response:
    return await _case_page(request, uuid_param(request, "case_id", "case").lower(), [])


@dataclass
class _Posted:
    """A form posted about a case (and one of its notices): its fields, and the steps its handler
    takes, each refusal re-showing the case's legal page with the reason (``_do``)."""
    request: Request
    case_id: str
    notice_id: str = ""

    def text(self, name: str, limit: int) -> str:
        return text_field(form(self.request), name, limit)

    async def do(self, fn: Any, *args: Any) -> Any:
        return await _do(self.request, self.case_id, fn, *args)

    async def date(self, name: str, what: str) -> dt.date:
        return await self.do(_date, self.text(name, 10), what)

    async def write(self, fn: Any, *args: Any) -> Any:
        """``fn(st, user, notice_id, *args)``: a write to the notice."""
        return await self.do(fn, app_state(self.request), me(self.request).user, self.notice_id, *args)

    def back(self, done: str) -> Response:
        return redirect(f"/office/cases/{self.case_id}/legal?done={done}")


def _about_case(request: Request) -> _Posted:
    return _Posted(request, uuid_param(request, "case_id", "case").lower())


@_shown
async def issue_nti(request: Request) -> Response:
    st, user, posted = app_state(request), me(request).user, _about_case(request)
    issued_on = await posted.date("issued_on", "the date of issue")
    parents = await posted.do(_parents, st, [_parent(request, "p1_"), _parent(request, "p2_")])
    await posted.do(legal_writes.issue_nti, st, user, posted.case_id, parents, issued_on)
    return posted.back("nti")


@_shown
async def request_pn(request: Request) -> Response:
    st, user, posted = app_state(request), me(request).user, _about_case(request)
    case_id, data = posted.case_id, form(request)
    on = await posted.date("requested_on", "the date of the request")
    parents = await posted.do(_parents, st, [_parent(request, "")])
    if not parents:
        return await _case_page(request, case_id, ["Name the parent the notice is for."], 422)
    chosen = []
    for raw in data.getlist("sessions")[:2000]:
        day, _, session = str(raw).partition("-")
        if day.isdigit() and session in ("0", "1"):
            chosen.append((int(day), int(session)))
    _id, status = await posted.do(legal_writes.request_pn, st, user, case_id, parents[0],
                                  text_field(data, "ground", 20), text_field(data, "requested_by", 200) or "the school",
                                  chosen, text_field(data, "note", 2000), on)
    return posted.back(status)


def _notice_case(st: AppState, notice_id: str) -> str:
    with st.db.read() as txn:
        n = legal.notice(txn, notice_id)
    if n is None:
        raise PageError(404, "Not found", "There is no notice with that id.")
    return n["case_id"]


async def _about_notice(request: Request) -> _Posted:
    notice_id = uuid_param(request, "notice_id", "notice").lower()
    return _Posted(request, await run_in_threadpool(_notice_case, app_state(request), notice_id), notice_id)


@_shown
async def outcome(request: Request) -> Response:
    posted = await _about_notice(request)
    await posted.write(legal_writes.nti_outcome, posted.text("outcome", 20), posted.text("note", 2000))
    return posted.back("outcome")


@_shown
async def review(request: Request) -> Response:
    posted = await _about_notice(request)
    decision = posted.text("decision", 20)
    await posted.write(legal_writes.review_pn, decision, posted.text("reason", 2000))
    return posted.back("approved" if decision == "approved" else "recorded")


@_shown
async def issue(request: Request) -> Response:
    posted = await _about_notice(request)
    on = await posted.date("issued_on", "the date of issue")
    return posted.back(await posted.write(legal_writes.issue_pn, on, posted.text("method", 10)))


@_shown
async def record(request: Request) -> Response:
    posted = await _about_notice(request)
    on = await posted.date("on", "the date")
    amount = posted.text("amount", 6).lstrip("£")
    await posted.write(legal_writes.record_pn, posted.text("what", 20), on, int(amount) if amount.isdigit() else None,
                       posted.text("reason", 2000))
    return posted.back("recorded")


@page
async def make_letter(request: Request) -> Response:
    posted = await _about_notice(request)
    await run_in_threadpool(letters.make_letter, app_state(request), me(request).user, posted.notice_id,
                            today().isoformat())
    return posted.back("letter")


@page
async def letter_pdf(request: Request) -> Response:
    found = await run_in_threadpool(letters.letter_pdf, app_state(request), me(request).user,
                                    uuid_param(request, "letter_id", "letter").lower())
    if found is None:
        raise PageError(404, "Not found", "There is no letter with that id.")
    pdf, name = found
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


def _due(st: AppState) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with st.db.read() as txn:
        return legal.due(txn, today()), legal.unpaid(txn)


@page
async def due_list(request: Request) -> Response:
    st = app_state(request)
    rows, unpaid = await run_in_threadpool(_due, st)
    await run_in_threadpool(record_view, st, me(request).user.id, [r["pupil_id"] for r in rows + unpaid],
                            "legal steps due")
    return render(request, "casework_legal_due.html", {
        "title": "Legal steps", "rows": rows, "unpaid": unpaid, "due_count": sum(r["is_due"] for r in rows)},
        active="legal")


routes = [
    Route("/office/legal", due_list, methods=["GET"]),
    Route("/office/cases/{case_id}/legal", case_legal, methods=["GET"]),
    Route("/office/cases/{case_id}/legal/nti", issue_nti, methods=["POST"]),
    Route("/office/cases/{case_id}/legal/pn", request_pn, methods=["POST"]),
    Route("/office/legal/notices/{notice_id}/outcome", outcome, methods=["POST"]),
    Route("/office/legal/notices/{notice_id}/review", review, methods=["POST"]),
    Route("/office/legal/notices/{notice_id}/issue", issue, methods=["POST"]),
    Route("/office/legal/notices/{notice_id}/record", record, methods=["POST"]),
    Route("/office/legal/notices/{notice_id}/letter", make_letter, methods=["POST"]),
    Route("/office/legal/letters/{letter_id}.pdf", letter_pdf, methods=["GET"]),
]
