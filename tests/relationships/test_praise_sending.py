"""Praise texts (issue 19 item 2): the suggested words, who is never texted, sending through
GOV.UK Notify's official client against a local server that speaks Notify's API (sent,
retried, refused, delivery status) and the CSV fallback for a school's own texting system."""
from __future__ import annotations

import csv
import io
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from server.cli import main as cli
from server.relationships import praise, sender
from server.relationships import templates as tpl
from server.relationships.notify import NotifyConfig
from server.state import AppState
from tests.relationships.notify_server import FakeNotify

TEMPLATE = str(uuid.uuid4())


@pytest.fixture
def family(world, app_state: AppState) -> dict[str, Any]:
    office, _officer, ids = world
    r = office.push([office.change("household", ids["household"], {
        "contacts": [{"name": "Jo Stone", "relationship": "mother", "phone": "07700 900123"}]}, base_version=1)])
    assert r.json()["results"][0]["status"] == "applied", r.text
    return {"office": office, **ids}


def queued(st: AppState, pupil_ids: list[str], **settings: Any) -> list[str]:
    with st.db.write() as txn:
        found = praise.suggest(txn, pupil_ids, allow_during_legal=settings.get("legal", False),
                               interval_days=settings.get("interval", 14))
        return praise.queue(txn, found, "office-user")


def message(st: AppState, message_id: str) -> dict[str, Any]:
    return st.db.query("SELECT * FROM messages WHERE id = ?", (message_id,))[0]


def test_the_suggested_words_name_the_pupil_and_carry_no_figures(family, app_state) -> None:
    with app_state.db.read() as txn:
        [s] = praise.suggest(txn, [family["pupil"]], allow_during_legal=False, interval_days=14)
    assert s.can_send and s.family.phone == "+447700900123"
    assert s.text.startswith("Hello from the attendance team at Hexthorpe Primary. Ava has been coming")
    assert "Ava" in s.praise_prompt and not any(ch.isdigit() for ch in s.text)


def test_templates_refuse_figures_warnings_and_unknown_placeholders() -> None:
    ok = "Thank you! {first_name} has been in school far more lately."
    assert tpl.check("praise_family", "English", ok) == {}
    assert "figures" in tpl.check("praise_family", "English", ok + " Up to 92%.")["body"]
    assert "fine" in tpl.check("praise_family", "English", ok + " No fine now.")["body"]
    assert "{surname}" in tpl.check("praise_family", "English", ok + " {surname}")["body"]
    assert "first name" in tpl.check("praise_family", "English", "Thank you for your help this term.")["body"]
    assert "kind" in tpl.check("warning", "English", ok)
    assert "notify_template_id" in tpl.check("praise_family", "English", ok, "not-an-id")


def test_the_family_language_picks_its_template(family, app_state) -> None:
    office = family["office"]
    with app_state.db.write() as txn:
        tpl.save(txn, "praise_family", "Polish", "Dzień dobry! {first_name} dużo częściej przychodzi do szkoły. "
                 "Dziękujemy!", "", "office-user")
    office.push([office.change("household", family["household"], {"language": "polish "}, base_version=2)])
    with app_state.db.read() as txn:
        [s] = praise.suggest(txn, [family["pupil"]], allow_during_legal=False, interval_days=14)
    assert s.text.startswith("Dzień dobry! Ava dużo")


def test_sent_through_notify_then_delivered_and_audited(family, app_state) -> None:
    [mid] = queued(app_state, [family["pupil"]])
    with FakeNotify(TEMPLATE) as notify:
        config = NotifyConfig(notify.api_key, TEMPLATE, notify.url)
        assert sender.send_due(app_state.db, config) == {"sent": 1, "retry_later": 0, "failed": 0,
                                                         "status_checked": 1}
        [(notify_id, body)] = notify.sent.items()
        assert body["phone_number"] == "+447700900123" and body["reference"] == mid
        assert body["personalisation"]["message"].startswith("Hello from the attendance team")
    row = message(app_state, mid)
    assert (row["status"], row["notify_id"], row["notify_status"]) == ("delivered", notify_id, "delivered")
    actions = [r["action"] for r in app_state.db.query(
        "SELECT a.action FROM audit a JOIN audit_entities e ON e.audit_id = a.id WHERE e.entity_id = ? "
        "ORDER BY a.id", (family["case"],))]
    assert actions[-2:] == ["message_queued", "message_sent"]
    with app_state.db.read() as txn:  # on the case's chronology
        [shown] = praise.for_case_or_pupil(txn, case_id=family["case"])
    assert shown["status_words"] == "Delivered"


def test_a_text_with_no_final_status_is_asked_about_for_a_week_only(family, app_state) -> None:
    [mid] = queued(app_state, [family["pupil"]])
    with FakeNotify(TEMPLATE) as notify:
        notify.status_of_new = "sending"  # Notify has not heard from the carrier
        config = NotifyConfig(notify.api_key, TEMPLATE, notify.url)
        assert sender.send_due(app_state.db, config)["status_checked"] == 1
        assert (message(app_state, mid)["status"], message(app_state, mid)["notify_status"]) == ("sent", "sending")
        assert sender.send_due(app_state.db, config)["status_checked"] == 1  # still within the week
        week_later = time.time() + sender.STATUS_DAYS * 86400 + 60
        asked = len(notify.requests)
        assert sender.send_due(app_state.db, config, now=week_later)["status_checked"] == 0
        assert len(notify.requests) == asked  # not asked again
    assert message(app_state, mid)["status"] == "sent"


def test_a_failure_is_retried_later_and_a_refusal_is_kept(family, app_state) -> None:
    [mid] = queued(app_state, [family["pupil"]])
    with FakeNotify(TEMPLATE) as notify:
        config = NotifyConfig(notify.api_key, TEMPLATE, notify.url)
        notify.fail_next(1, 500)
        assert sender.send_due(app_state.db, config)["retry_later"] == 1
        row = message(app_state, mid)
        assert row["status"] == "to_send" and row["attempts"] == 1 and row["last_error"].startswith("500")
        assert sender.send_due(app_state.db, config)["sent"] == 0  # not due yet
        later = row["next_attempt_at"] + 1
        notify.fail_next(1, 429)
        assert sender.send_due(app_state.db, config, now=later)["retry_later"] == 1
        assert sender.send_due(app_state.db, config, now=later + 3600)["sent"] == 1
        assert message(app_state, mid)["attempts"] == 3 and len(notify.sent) == 1
    # a template Notify does not know is refused for good, with Notify's words
    queued(app_state, [family["pupil"]], interval=0)
    with FakeNotify(TEMPLATE) as notify:
        config = NotifyConfig(notify.api_key, str(uuid.uuid4()), notify.url)
        assert sender.send_due(app_state.db, config)["failed"] == 1
    [failed] = app_state.db.query("SELECT * FROM messages WHERE status = 'failed'")
    assert failed["last_error"] == "400: Template not found" and failed["attempts"] == 1


def test_an_opted_out_or_do_not_contact_family_is_never_texted(family, app_state) -> None:
    [mid] = queued(app_state, [family["pupil"]])
    with app_state.db.write() as txn:  # the family says no after the text was queued
        praise.set_preferences(txn, family["household"], True, False, "Asked on the phone", "office-user")
    with FakeNotify(TEMPLATE) as notify:
        sender.send_due(app_state.db, NotifyConfig(notify.api_key, TEMPLATE, notify.url))
        assert notify.sent == {} and notify.requests == []
    assert message(app_state, mid)["status"] == "cancelled"
    assert queued(app_state, [family["pupil"]], interval=0) == []
    with app_state.db.write() as txn:
        praise.set_preferences(txn, family["household"], False, True, "Safeguarding advice", "office-user")
    with app_state.db.read() as txn:
        [s] = praise.suggest(txn, [family["pupil"]], allow_during_legal=False, interval_days=0)
    assert s.blocked == ["The family is flagged do-not-contact."]


def test_legal_step_live_and_recent_text_hold_praise(family, app_state) -> None:
    office = family["office"]
    r = office.push([office.change("case", family["case"], {"stage": "notice_to_improve"}, base_version=1)])
    assert r.json()["results"][0]["status"] == "applied", r.text
    with app_state.db.read() as txn:
        [s] = praise.suggest(txn, [family["pupil"]], allow_during_legal=False, interval_days=14)
    assert s.blocked == ["A legal step is live on the case (the authority's setting: no praise texts then)."]
    assert queued(app_state, [family["pupil"]]) == []
    assert len(queued(app_state, [family["pupil"]], legal=True)) == 1  # DOORSTEP_PRAISE_DURING_LEGAL=yes
    with app_state.db.read() as txn:
        [s] = praise.suggest(txn, [family["pupil"]], allow_during_legal=True, interval_days=14)
    assert s.blocked == ["A praise text was already made for this family in the last 14 days."]


def test_csv_export_for_the_schools_texting_system(family, app_state, tmp_path: Path, monkeypatch) -> None:
    with app_state.db.write() as txn:
        tpl.save(txn, "praise_family", "English", "=HYPERLINK(\"x\") {first_name} is doing so well, thank you!",
                 "", "office-user")
    [mid] = queued(app_state, [family["pupil"]])
    monkeypatch.delenv("DOORSTEP_NOTIFY_API_KEY", raising=False)
    out = tmp_path / "texts.csv"
    assert cli(["--db", app_state.settings.db_path, "messages", "export", "--out", str(out)]) == 0
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert row["mobile"] == "07700900123" and row["doorstep_message_id"] == mid
    assert row["message"].startswith("'=HYPERLINK")  # a spreadsheet will not run it
    assert message(app_state, mid)["status"] == "exported"
    assert cli(["--db", app_state.settings.db_path, "messages", "export", "--out", str(out)]) == 0
    assert list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))) == []
    assert cli(["--db", app_state.settings.db_path, "messages", "send"]) == 2  # Notify not set up
