"""The sync status tells the officer where the work stands: offline or server
unreachable (and why), signed out, syncing, synced; how long ago it last synced;
how many changes wait; and "Sync now" says why when it cannot sync. At 360 × 640."""
from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Route, expect

from tests.browser.test_pwa_a11y import TARGETS
from tests.browser.test_pwa_offline_sync import record_visit

pytestmark = pytest.mark.browser


def bar(phone):  # noqa: ANN001, ANN201 - a Device, its Playwright locators
    page = phone.page
    return page.locator("#sync-bar"), page.locator("#sync-detail"), page.locator("#sync-reply")


def open_with_timeout(phone, seconds: float):  # noqa: ANN001, ANN201
    """Open the app with a short request timeout (`?timeout=`), as a test may."""
    page = phone.page
    page.goto(f"{phone.base}/app/?timeout={seconds}")
    expect(page.locator("html[data-ready='1']")).to_be_attached()
    page.wait_for_function("navigator.serviceWorker.controller?.state === 'activated'")
    return page


def bar_problems(page, name: str) -> list[str]:  # noqa: ANN001
    """axe (serious, critical) on the status bar and its answer; both inside 360 px; 44 px targets.
    The whole screens are checked by test_pwa_a11y.py."""
    problems = []
    for selector in ("#sync-bar", "#sync-reply"):
        for v in Axe().run(page, context=selector).response["violations"]:
            if v.get("impact") in ("serious", "critical"):
                problems.append(f"{name}: axe {v['id']} ({v['impact']}) on {selector}: {v['help']}")
        box = page.locator(selector).bounding_box()
        if box is None or box["x"] < 0 or box["x"] + box["width"] > 360:
            problems.append(f"{name}: {selector} is not within 360 px: {box}")
    problems += [f"{name}: small target {t}" for t in page.evaluate(TARGETS) if "Sync now" in t]
    page.screenshot(path=f"/tmp/doorstep-{name}.png")
    return problems


def api_calls(page) -> list[str]:  # noqa: ANN001
    seen: list[str] = []
    page.on("request", lambda r: "/api/" in r.url and seen.append(r.url))
    return seen


def test_offline_and_an_unreachable_server_are_told_apart_and_sync_now_says_why(devices, demo) -> None:
    case = demo.open_cases("officer3")[6]
    notes = f"Status: unreachable {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer3")
    state, detail, reply = bar(phone)
    expect(phone.status).to_have_text("All synced")
    expect(detail).to_have_text("Last synced just now")
    expect(state).to_have_attribute("data-state", "synced")

    # Offline: the count is shown, and "Sync now" says why it cannot, without a request.
    phone.offline()
    phone.open_case(case)
    record_visit(page, notes, outcome="no_answer")
    expect(phone.status).to_have_text("Offline · 1 change waiting")
    expect(state).to_have_attribute("data-state", "offline")
    calls = api_calls(page)
    page.get_by_role("button", name="Sync now").click()
    expect(reply).to_have_text("Can't sync: this phone is offline. Your change is saved on this phone. "
                               "Doorstep syncs by itself when a signal returns.")
    assert calls == []
    problems = bar_problems(page, "status-offline")

    # The network is back but the server refuses every connection: not "Offline", and why.
    phone.context.route("**/api/**", lambda route: route.abort("connectionrefused"))
    phone.offline(False)
    expect(phone.status).to_have_text("Server not answering, retrying · 1 change waiting")
    expect(state).to_have_attribute("data-state", "unreachable")
    expect(reply).to_be_empty()  # the offline answer went with the offline state
    expect(detail).to_contain_text("Last synced just now")
    expect(detail).to_contain_text("Next try in")
    page.get_by_role("button", name="Sync now").click()
    expect(reply).to_contain_text("Can't sync: the server cannot be reached. Your change is saved on this phone. "
                                  "Doorstep tries again in")
    expect(phone.status).not_to_contain_text("Offline")
    problems += bar_problems(page, "status-unreachable")
    assert not problems, "\n".join(problems)

    # The server answers again: "Sync now" goes at once, and the reason goes away.
    phone.context.unroute("**/api/**")
    page.get_by_role("button", name="Sync now").click()
    phone.wait_synced()
    expect(phone.status).to_have_text("All synced")
    expect(reply).to_be_empty()
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]
    assert not phone.errors


def test_a_server_that_never_answers_times_out_and_is_named(devices, demo) -> None:
    case = demo.open_cases("officer3")[7]
    notes = f"Status: timeout {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = open_with_timeout(phone, 1)
    phone.sign_in("officer3")
    state, detail, reply = bar(phone)
    hung: list[Route] = []
    phone.context.route("**/api/sync/**", lambda route: hung.append(route))  # never answered
    phone.open_case(case)
    record_visit(page, notes, outcome="card_left")
    expect(phone.status).to_have_text("Server not answering, retrying · 1 change waiting")
    expect(state).to_have_attribute("data-state", "unreachable")
    assert hung, "the push was sent"
    page.get_by_role("button", name="Sync now").click()
    expect(reply).to_contain_text("Can't sync: the server did not answer within 1 s. Your change is saved on this phone.")
    expect(detail).to_contain_text("Last synced")
    phone.context.unroute("**/api/sync/**")
    page.get_by_role("button", name="Sync now").click()
    phone.wait_synced()
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]


def test_503_busy_with_retry_after_is_shown_waited_for_and_retried(devices, demo) -> None:
    case = demo.cases_clear_of_check_ins("officer4")[6]
    notes = f"Status: busy {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer4")
    state, detail, reply = bar(phone)
    pushes: list[float] = []
    busy = json.dumps({"error": {"code": "busy", "message": "The server is busy.", "details": {}}})

    def push(route: Route) -> None:
        pushes.append(time.monotonic())
        if len(pushes) == 1:
            route.fulfill(status=503, body=busy, content_type="application/json", headers={"Retry-After": "4"})
        else:
            route.continue_()

    phone.context.route("**/api/sync/push", push)
    phone.open_case(case)
    record_visit(page, notes, outcome="spoke_to_parent")
    # 4 s, plus up to a quarter of jitter, rounded up.
    expect(phone.status).to_have_text(re.compile(r"^Server busy, retrying in [45] s · 1 change waiting$"))
    expect(state).to_have_attribute("data-state", "unreachable")
    expect(detail).to_contain_text("Next try in")
    # "Sync now" keeps to what the server asked.
    page.get_by_role("button", name="Sync now").click()
    expect(reply).to_contain_text("Can't sync yet: the server is busy and asked Doorstep to wait. "
                                  "Your change is saved on this phone. Next try in")
    assert len(pushes) == 1
    problems = bar_problems(page, "status-busy")
    assert not problems, "\n".join(problems)
    phone.wait_synced(timeout=15)
    assert len(pushes) == 2 and pushes[1] - pushes[0] >= 3.9, pushes
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]


def test_the_count_and_the_age_of_the_last_sync_are_always_in_view(devices, demo) -> None:
    case = demo.cases_clear_of_check_ins("officer4")[7]
    phone = devices()
    phone.context.clock.install()
    page = phone.open()
    phone.sign_in("officer4")
    state, detail, _ = bar(phone)
    phone.offline()
    phone.open_case(case)
    record_visit(page, f"Status: age {uuid.uuid4().hex[:8]}", outcome="no_answer")
    page.clock.fast_forward("03:10")
    expect(detail).to_have_text("Last synced 3 min ago")
    expect(phone.status).to_have_text("Offline · 1 change waiting")
    # Down a long case screen, the status bar is still on screen.
    page.mouse.wheel(0, 3000)
    for el in (phone.status, detail):
        expect(el).to_be_in_viewport()
    box = state.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 640
    page.clock.fast_forward("58:00")
    expect(detail).to_have_text("Last synced 1 h ago")


def test_an_ended_sign_in_says_signed_out_and_keeps_the_changes(devices, demo) -> None:
    case = demo.open_cases("officer2")[7]
    notes = f"Status: signed out {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer2")
    expired = json.dumps({"error": {"code": "token_expired", "message": "expired", "details": {}}})
    ended = json.dumps({"error": {"code": "unauthenticated", "message": "Sign in again.", "details": {}}})
    phone.context.route("**/api/sync/**", lambda r: r.fulfill(status=401, body=expired, content_type="application/json"))
    phone.context.route("**/api/auth/refresh", lambda r: r.fulfill(status=401, body=ended, content_type="application/json"))
    phone.open_case(case)
    # the visit's first sync ends the sign-in, so the sign-in screen may come before the read-only page
    record_visit(page, notes, outcome="card_left", read_only_shown=False)
    expect(phone.status).to_have_text("Signed out, sign in again · 1 change waiting")
    expect(page.locator("#sync-bar")).to_have_attribute("data-state", "signedout")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    phone.context.unroute("**/api/sync/**")
    phone.context.unroute("**/api/auth/refresh")
    phone.enter_password("officer2")
    phone.wait_synced()
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]
