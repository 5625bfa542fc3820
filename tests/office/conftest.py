"""Office-page fixtures.

Unit and page tests use the TestClient fixtures of tests/conftest.py and sign in
through the office's own sign-in form (``office_page``). Browser tests
(``@pytest.mark.browser``) share one real ``doorstep serve --demo`` process and
one headless Debian Chromium for the session, with a fresh browser context
per test (BROWSER_TESTING.md).
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.api_pull import pull_all
from tests.conftest import PASSWORD
from tests.live_server import LiveServer

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SYNC = {"Doorstep-Protocol": "1"}


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class OfficePage:
    """A browser-like client signed in to the office pages (cookie session)."""

    def __init__(self, client: TestClient, user: dict[str, Any]) -> None:
        self.client = client
        self.user = user
        self.csrf = ""

    def sign_in(self, password: str = PASSWORD) -> httpx.Response:
        token = csrf_of(self.client.get("/office/login").text)
        r = self.client.post("/office/login", data={"csrf_token": token, "username": self.user["username"],
                                                     "password": password, "next": "/office/"},
                             follow_redirects=False)
        if r.status_code == 303:
            self.csrf = csrf_of(self.client.get("/office/").text)
        return r

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params or None, follow_redirects=False)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True, **kw: Any) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(path, data=body, follow_redirects=False, **kw)


@pytest.fixture
def office_page(client: TestClient, make_user) -> Any:
    """Factory: office_page(role="office") → an OfficePage signed in as a new user of that role."""

    def make(role: str = "office") -> OfficePage:
        page = OfficePage(client, make_user(role))
        r = page.sign_in()
        assert r.status_code == 303, r.text
        return page

    return make


def text_of(html: str) -> str:
    """The visible text of a page, tags removed and spaces collapsed."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    text = re.sub(r" ([,.:;)])", r"\1", text)
    return text.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"').replace("&quot;", '"')


# -- browser tests -----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
HERMETIC = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
DEMO_PASSWORDS = {"office": "doorstep-office", "admin": "doorstep-admin", "officer1": "doorstep-officer1",
                  "officer2": "doorstep-officer2", "officer3": "doorstep-officer3", "officer4": "doorstep-officer4"}


class Api:
    """One signed-in API device (httpx) against the live server."""

    def __init__(self, base: str, username: str, device: str = "pytest") -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        r = self.http.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORDS[username],
                                                    "device_name": device})
        assert r.status_code == 200, r.text
        body = r.json()
        self.token, self.device_id, self.user = body["access_token"], body["device_id"], body["user"]
        self.node = f"t{uuid.uuid4().hex[:12]}"
        self._ms = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **SYNC}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, headers=self.headers, params=params)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None,
             **kw: Any) -> httpx.Response:
        if body is not None:
            kw["json"] = body
        return self.http.post(path, headers={**self.headers, **(headers or {})}, **kw)

    def hlc(self) -> str:
        self._ms = max(self._ms + 1, int(time.time() * 1000))
        return f"{self._ms:015d}-000000-{self.device_id}"

    def push(self, type_: str, id_: str, fields: dict[str, Any], base_version: int | None,
             hlc: str | None = None) -> dict[str, Any]:
        change = {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put", "fields": fields,
                  "base_version": base_version, "hlc": hlc or self.hlc()}
        r = self.post("/api/sync/push", {"client_id": self.device_id, "changes": [change]})
        assert r.status_code == 200, r.text
        return r.json()["results"][0]

    def pull_all(self) -> dict[tuple[str, str], dict[str, Any]]:
        return pull_all(lambda params: self.get("/api/sync/pull", **params))

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real ``doorstep serve --demo`` for the browser tests of this folder."""
    folder = tmp_path_factory.mktemp("office-server")
    server = LiveServer(str(folder / "doorstep.db"), "--demo")
    server.start(timeout=90)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium(chromium_browser: Any) -> Any:
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=15_000)
    return chromium_browser  # one Playwright per run: see tests/conftest.py


@pytest.fixture
def apis(live: LiveServer) -> Iterator[Any]:
    """Factory: apis("officer1") → a new signed-in API device on the live server."""
    made: list[Api] = []

    def make(username: str, device: str = "pytest") -> Api:
        api = Api(live.url, username, device)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


class Desk:
    """One office browser: a fresh context (its own cookies) with one page, at a laptop size."""

    def __init__(self, context: Any, base: str) -> None:
        self.context, self.base = context, base
        self.page = context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []  # uncaught script errors
        self.page.on("console", lambda m: self.console.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def sign_in(self, username: str = "office") -> Any:
        from playwright.sync_api import expect

        page = self.open("/office/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
        page.get_by_role("button", name="Sign in").click()
        if username in ("office", "admin"):
            expect(page.get_by_role("heading", level=1, name="Overview")).to_be_visible()
        return page

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]


@pytest.fixture
def desk(chromium: Any, live: LiveServer) -> Iterator[Desk]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    yield Desk(context, live.url)
    context.close()
