"""Office pages for praise texts: improving pupils with the suggested words, the queue, sending
through GOV.UK Notify or exporting a CSV, the authority's templates, a family's preferences."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from .. import jobs
from ..office.exports import csv_response
from ..office.pages import PageError, app_state, form, me, page, redirect, render, text_field, uuid_param
from ..state import AppState
from . import praise, sender
from . import templates as tpl
from .notify import NotifyConfig

DONE = {"queued": "Messages queued.", "sending": "Sending started: statuses update as GOV.UK Notify answers.",
        "template": "Template saved.", "preferences": "The family's contact preferences are saved.",
        "none": "Nothing was queued: choose at least one family that may be texted."}


def improving_ids(st: AppState, school_id: str | None) -> list[str]:
    """Pupils the register finds improving (server/register/improvement.py), for one school or all."""
    from ..register import improvement

    return improvement.improving_pupil_ids(st, school_id=school_id)


def _overview(st: AppState, school_id: str | None) -> dict[str, Any]:
    ids = improving_ids(st, school_id)
    with st.db.read() as txn:
        suggestions = praise.suggest(txn, ids, allow_during_legal=st.settings.praise_during_legal,
                                     interval_days=st.settings.praise_interval_days)
        waiting = txn.rows("SELECT m.id, m.body, m.phone, m.status, m.attempts, m.last_error, m.created_at, "
                           "p.data AS pupil FROM messages m LEFT JOIN pupils p ON p.id = m.pupil_id "
                           "WHERE m.status IN ('to_send', 'sent', 'failed') ORDER BY m.created_at DESC LIMIT 200")
        schools = txn.rows("SELECT id, json_extract(data, '$.name') AS name FROM schools WHERE deleted = 0 "
                           "ORDER BY name")
    suggestions.sort(key=lambda s: (not s.can_send, s.school, s.name))  # the families to text first
    return {"suggestions": suggestions, "waiting": waiting, "schools": schools}


@page
async def praise_page(request: Request) -> Response:
    st = app_state(request)
    school = request.query_params.get("school", "")
    school_id = school if is_uuid(school) else None
    data = await run_in_threadpool(_overview, st, school_id)
    return render(request, "praise.html", {
        "title": "Praise for improving pupils", "school": school_id or "", "notify": NotifyConfig.from_env() is not None,
        "done": DONE.get(request.query_params.get("done", ""), ""), "words": praise.STATUS_WORDS, **data},
        active="praise")


def _queue(st: AppState, chosen: list[str], user_id: str) -> int:
    wanted = set(chosen) & set(improving_ids(st, None))  # only pupils improving now
    with st.db.write() as txn:
        suggestions = praise.suggest(txn, sorted(wanted), allow_during_legal=st.settings.praise_during_legal,
                                     interval_days=st.settings.praise_interval_days)
        return len(praise.queue(txn, suggestions, user_id))


@page
async def queue_messages(request: Request) -> Response:
    chosen = [v for v in form(request).getlist("pupil_id") if isinstance(v, str) and is_uuid(v)]
    count = await run_in_threadpool(_queue, app_state(request), chosen, me(request).user.id)
    return redirect("/office/praise?done=" + ("queued" if count else "none"))


@page
async def send_now(request: Request) -> Response:
    if NotifyConfig.from_env() is None:
        raise PageError(409, "GOV.UK Notify is not set up",
                        "This server has no Notify API key and template (docs/relationships.md): "
                        "export the messages as CSV for the school's texting system instead.")
    await run_in_threadpool(jobs.submit, app_state(request).db, sender.JOB_KIND,
                            {"user_id": me(request).user.id}, me(request).user.id)
    return redirect("/office/praise?done=sending")


@page
async def export(request: Request) -> Response:
    school = text_field(form(request), "school", 36)
    text, _count = await run_in_threadpool(sender.export_csv, app_state(request).db, me(request).user.id,
                                           school if is_uuid(school) else None)
    return csv_response("praise-messages.csv", text)


def _templates(st: AppState) -> list[tpl.Template]:
    with st.db.read() as txn:
        return tpl.all_templates(txn)


async def _templates_page(request: Request, errors: dict[str, str], values: dict[str, str],
                          status: int = 200) -> Response:
    return render(request, "praise_templates.html", {
        "title": "Message templates", "templates": await run_in_threadpool(_templates, app_state(request)),
        "kinds": tpl.KINDS, "placeholders": tpl.PLACEHOLDERS, "max_chars": tpl.MAX_CHARS, "errors": errors,
        "values": values, "done": DONE.get(request.query_params.get("done", ""), "")}, status=status,
        active="praise")


@page
async def templates_page(request: Request) -> Response:
    return await _templates_page(request, {}, {})


@page
async def save_template(request: Request) -> Response:
    data = form(request)
    values = {"kind": text_field(data, "kind", 40), "language": text_field(data, "language", 100),
              "body": text_field(data, "body", 2000), "notify_template_id": text_field(data, "notify_template_id", 60)}
    errors = tpl.check(**values)
    if errors:
        return await _templates_page(request, errors, values, 422)
    st = app_state(request)

    def write() -> None:
        with st.db.write() as txn:
            tpl.save(txn, values["kind"], values["language"], values["body"], values["notify_template_id"],
                     me(request).user.id)

    await run_in_threadpool(write)
    return redirect("/office/praise/templates?done=template")


@page
async def preferences(request: Request) -> Response:
    household_id = uuid_param(request, "household_id", "household")
    data = form(request)
    st = app_state(request)

    def write() -> None:
        with st.db.write() as txn:
            if not txn.rows("SELECT 1 FROM households WHERE id = ? AND deleted = 0", (household_id,)):
                raise PageError(404, "Not found", "There is no household with that id.")
            praise.set_preferences(txn, household_id, data.get("opted_out") == "yes",
                                   data.get("do_not_contact") == "yes", text_field(data, "reason", 500),
                                   me(request).user.id)

    await run_in_threadpool(write)
    back = text_field(data, "back", 300)
    return redirect(back if back.startswith("/office/") else "/office/praise?done=preferences")


routes = [
    Route("/office/praise", praise_page),
    Route("/office/praise/queue", queue_messages, methods=["POST"]),
    Route("/office/praise/send", send_now, methods=["POST"]),
    Route("/office/praise/export", export, methods=["POST"]),
    Route("/office/praise/templates", templates_page),
    Route("/office/praise/templates", save_template, methods=["POST"]),
    Route("/office/households/{household_id}/contact-preferences", preferences, methods=["POST"]),
]
