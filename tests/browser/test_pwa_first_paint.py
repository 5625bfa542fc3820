"""The sign-in screen is painted from the page's HTML before any script runs (a first visit's
largest contentful paint, docs/pwa.md), the app takes it over as it stands, and a phone that has
the service worker opens without the sign-in form flashing up before its own screen."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_sign_in_is_painted_without_script_and_cannot_be_sent_without_it(devices) -> None:
    phone = devices(java_script_enabled=False)
    page = phone.page
    page.goto(phone.base + "/app/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    # nothing can post a password before the app has wired the form (Enter does nothing either)
    expect(page.get_by_role("button", name="Sign in")).to_be_disabled()
    page.get_by_label("Password").fill("not sent")
    page.get_by_label("Password").press("Enter")
    assert page.url == phone.base + "/app/"


def test_what_is_typed_before_the_app_starts_is_kept(devices) -> None:
    phone = devices()
    page = phone.page
    held = []

    def hold(route) -> None:  # noqa: ANN001 - a Playwright route
        held.append(route)

    page.route("**/app/app.js", hold, times=1)  # the app's code waits until the officer has typed
    page.goto(phone.base + "/app/", wait_until="commit")
    page.get_by_label("Username").fill("officer1")
    expect(page.get_by_role("button", name="Sign in")).to_be_disabled()
    for _ in range(100):  # the module is requested while the page parses
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "app.js was not requested"
    held[0].continue_()
    expect(page.locator("html[data-ready='1']")).to_be_attached()
    expect(page.get_by_label("Username")).to_have_value("officer1")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    page.wait_for_function("navigator.serviceWorker.controller?.state === 'activated'")
    phone.sign_in("officer1")
    expect(page.locator("ul.cards li").first).to_be_visible()
    assert not phone.errors


def test_a_phone_with_the_worker_opens_at_its_lock_without_the_sign_in_form(devices) -> None:
    phone = devices()
    page = phone.open()
    phone.sign_in("officer1")
    resp = page.reload()
    assert resp is not None and resp.from_service_worker
    assert '<section class="signin" id="signin-screen" hidden' in resp.text()
    phone.expect_locked()
    expect(page.get_by_role("heading", name="Sign in to Doorstep")).to_have_count(0)
    phone.unlock()
    expect(page.locator("ul.cards li").first).to_be_visible()
    assert not phone.errors
