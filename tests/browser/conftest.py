"""Browser-test fixtures: a real doorstep server on a temporary database (demo
data), one headless Debian Chromium for the session, a fresh context (a fresh
device: its own service worker, caches and IndexedDB) per test.

The recipe is /work/shared/design/BROWSER_TESTING.md. Contexts use
``bypass_csp`` because Playwright's polling predicates evaluate strings, which
the server's Content-Security-Policy forbids; test_pwa_shell.py runs the app
once without it to show the app itself keeps to that policy.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

from tests.api_pull import pull_all  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
HERMETIC = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
SYNC = {"Doorstep-Protocol": "1"}
PHONE = {"width": 360, "height": 640}
PIN = "482915"  # what every test phone's officer sets after signing in

expect.set_options(timeout=15_000)


def demo_password(username: str) -> str:
    from fixtures.demo import DEMO_PASSWORD

    return DEMO_PASSWORD[username]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server (`doorstep serve --demo`) on a temporary database, for the whole run."""
    folder = tmp_path_factory.mktemp("pwa-server")
    port = _free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--db", str(folder / "doorstep.db"), "serve",
         "--host", "127.0.0.1", "--port", str(port), "--demo"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail("the server exited:\n" + (folder / "server.log").read_text(errors="replace")[-3000:])
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer /api/health within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class Api:
    """One signed-in API user (httpx), for office actions and checking the server."""

    def __init__(self, base: str, username: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.username = username
        self._login()
        self._ms = 0
        self.node = f"test-{username}"

    def _login(self) -> None:
        r = self.http.post("/api/auth/login", json={
            "username": self.username, "password": demo_password(self.username), "device_name": "pytest"})
        assert r.status_code == 200, r.text
        body = r.json()
        self.token = body["access_token"]
        self.device_id = body["device_id"]
        self.user = body["user"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **SYNC}

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        r = self.http.request(method, path, headers=self.headers, **kw)
        if r.status_code == 401 and r.json()["error"]["code"] == "token_expired":
            self._login()
            r = self.http.request(method, path, headers=self.headers, **kw)
        return r

    def hlc(self) -> str:
        self._ms = max(self._ms + 1, int(time.time() * 1000))
        return f"{self._ms:015d}-000000-{self.node}"

    def pull_all(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Everything this user may see, at its latest state: {(type, id): change}."""
        return pull_all(lambda params: self.request("GET", "/api/sync/pull", params=params))

    def records(self, type_: str) -> list[dict[str, Any]]:
        return [{**c["fields"], "_version": c["version"]} for (t, _), c in self.pull_all().items()
                if t == type_ and not c.get("removed") and not c.get("deleted")]

    def record(self, type_: str, id_: str) -> dict[str, Any] | None:
        c = self.pull_all().get((type_, id_))
        return None if c is None or c.get("removed") or c.get("deleted") else {**c["fields"], "_version": c["version"]}

    def put(self, type_: str, id_: str, fields: dict[str, Any], base_version: int | None) -> dict[str, Any]:
        change = {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put", "fields": fields,
                  "base_version": base_version, "hlc": self.hlc()}
        r = self.request("POST", "/api/sync/push", json={"client_id": self.device_id, "changes": [change]})
        assert r.status_code == 200, r.text
        result = r.json()["results"][0]
        assert result["status"] in ("applied", "merged"), result
        return result

    def get(self, path: str, **params: Any) -> Any:
        r = self.request("GET", path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.request("POST", path, json=body if body is not None else {})

    def close(self) -> None:
        self.http.close()


class Demo:
    """What the demo database holds, seen by the office, and helpers to pick test data."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.office = Api(base, "office")
        self._users: dict[str, dict[str, Any]] = {}
        self._apis: list[Api] = [self.office]

    def user(self, username: str) -> dict[str, Any]:
        if username not in self._users:
            api = Api(self.base, username)
            self._apis.append(api)
            self._users[username] = api.user
        return self._users[username]

    def cases_clear_of_check_ins(self, username: str) -> list[dict[str, Any]]:
        """``open_cases`` less those whose case or household has an open lone-working check-in
        (the demo has one): a visit submitted there also checks out, a second change."""
        open_ = [c["fields"] for (t, _), c in self.office.pull_all().items()
                 if t == "check_in" and not c.get("deleted") and not c["fields"].get("closed_at")]
        cases = {ci.get("case_id") for ci in open_}
        households = {ci.get("household_id") for ci in open_} - {None}
        return [c for c in self.open_cases(username) if c["case"]["id"] not in cases
                and (c["pupil"].get("household_id") not in households)]

    def case_without(self, username: str, type_: str) -> dict[str, Any]:
        """One of ``open_cases`` with a household and no ``type_`` record yet (a plan, say)."""
        taken = {p["case_id"] for p in self.office.records(type_)}
        return next(c for c in self.open_cases(username) if c["case"]["id"] not in taken and c["household"])

    def open_cases(self, username: str) -> list[dict[str, Any]]:
        uid = self.user(username)["id"]
        everything = self.office.pull_all()
        live = {k: c for k, c in everything.items() if not c.get("removed") and not c.get("deleted")}
        out = []
        for (t, _), c in sorted(live.items()):
            f = c["fields"]
            if t != "case" or f.get("assigned_officer_id") != uid or f.get("status") != "open":
                continue
            pupil = live[("pupil", f["pupil_id"])]["fields"]
            household = live.get(("household", pupil.get("household_id") or ""), {}).get("fields")
            out.append({"case": {**f, "_version": c["version"]}, "pupil": pupil, "household": household,
                        "household_version": live.get(("household", pupil.get("household_id") or ""), {}).get("version"),
                        "name": f"{pupil['first_name']} {pupil['last_name']}"})
        return out

    def close(self) -> None:
        for api in self._apis:
            api.close()


@pytest.fixture(scope="session")
def demo(server_url: str) -> Iterator[Demo]:
    d = Demo(server_url)
    yield d
    d.close()


@pytest.fixture(scope="session")
def browser(chromium_browser: Browser) -> Browser:
    return chromium_browser  # one Playwright per run: see tests/conftest.py


IDB_DUMP = """async () => {
  const dbs = indexedDB.databases ? await indexedDB.databases() : [];
  if (!dbs.some((d) => d.name === 'doorstep')) return null;
  return await new Promise((resolve, reject) => {
    const r = indexedDB.open('doorstep');
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const db = r.result;
      try {
        const names = [...db.objectStoreNames];
        if (!names.length) { db.close(); resolve({}); return; }
        const t = db.transaction(names, 'readonly');
        const out = {};
        for (const n of names) {
          const q = t.objectStore(n).getAll();
          q.onsuccess = () => { out[n] = q.result; };
        }
        t.oncomplete = () => { db.close(); resolve(out); };
        t.onerror = () => { db.close(); reject(t.error); };
        t.onabort = () => { db.close(); reject(t.error); };
      } catch (err) { db.close(); reject(err); }
    };
  });
}"""


def form_section(page: Page, name: str) -> None:
    """A visit or conversation form shows one section at a time (pwa/views/sections.js): go to one."""
    steps = page.get_by_role("navigation", name="Form sections")
    steps.get_by_role("button", name=re.compile(rf"^\d+ {re.escape(name)}$")).click()
    expect(page.locator(".form-section:not([hidden]) > h2")).to_contain_text(name)


def submit_form(page: Page) -> None:
    """Submit a visit or conversation: from its last step, "Check and submit"."""
    form_section(page, "Check and submit")
    page.locator(".dock").get_by_role("button", name="Submit", exact=True).click()


class Device:
    """One phone: a browser context with one page of the app."""

    def __init__(self, context: BrowserContext, base: str) -> None:
        self.context = context
        self.base = base
        self.errors: list[str] = []
        self.page = self.new_page()

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page = page
        return page

    def open(self, *, wait_worker: bool = True) -> Page:
        self.page.goto(self.base + "/app/")
        expect(self.page.locator("html[data-ready='1']")).to_be_attached()
        if wait_worker:
            self.page.wait_for_function("navigator.serviceWorker.controller?.state === 'activated'")
        return self.page

    @property
    def status(self):  # noqa: ANN201 - a Playwright locator
        return self.page.get_by_role("status")

    def sign_in(self, username: str, *, pin: str = PIN) -> Page:
        """Sign in online, set the PIN, wait for the first sync."""
        page = self.page
        self.enter_password(username)
        self.set_pin(pin)
        self.wait_synced()
        return page

    def enter_password(self, username: str) -> None:
        page = self.page
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(demo_password(username))
        page.get_by_role("button", name="Sign in").click()

    def set_pin(self, pin: str = PIN) -> None:
        page = self.page
        expect(page.get_by_role("heading", level=1)).to_have_text("Set a PIN for this phone")
        page.get_by_label("PIN", exact=True).fill(pin)
        page.get_by_label("Confirm PIN", exact=True).fill(pin)
        page.get_by_role("button", name="Set PIN").click()
        expect(page.get_by_role("heading", name="Set a PIN for this phone")).to_have_count(0)

    def expect_locked(self) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Doorstep is locked")
        expect(self.status).to_contain_text("Locked")

    def unlock(self, pin: str = PIN) -> None:
        """The lock screen shows (a reload or idle time); the PIN opens it."""
        page = self.page
        self.expect_locked()
        page.get_by_label("PIN", exact=True).fill(pin)
        page.get_by_role("button", name="Unlock").click()
        expect(page.get_by_role("heading", name="Doorstep is locked")).to_have_count(0)

    def wait_synced(self, timeout: float = 10.0) -> None:
        """The outbox is empty and the status bar says so. Just after a save the status bar can
        still show the previous sync's "All synced" for a moment, so the outbox itself is read
        too: an entry leaves it only once the server has answered the push that carried it."""
        deadline = time.monotonic() + timeout
        while (self.idb() or {}).get("outbox"):
            assert time.monotonic() < deadline, f"the outbox still holds changes after {timeout} s"
            time.sleep(0.05)
        expect(self.status).to_contain_text("All synced")

    def offline(self, value: bool = True) -> None:
        self.context.set_offline(value)

    def idb(self) -> dict[str, list[Any]] | None:
        """Every store's rows as stored (sealed values come back as opaque objects)."""
        return self.page.evaluate(IDB_DUMP)

    def meta(self, key: str) -> Any:
        """One plaintext meta value as stored (device_id, user_id, pin_failures, wipe_report…)."""
        dump = self.idb()
        assert dump is not None
        return dict(zip(self._meta_keys(), dump["meta"], strict=False)).get(key)

    def _meta_keys(self) -> list[str]:
        return self.page.evaluate("""async () => await new Promise((resolve, reject) => {
          const r = indexedDB.open('doorstep');
          r.onerror = () => reject(r.error);
          r.onsuccess = () => {
            const db = r.result;
            const q = db.transaction('meta').objectStore('meta').getAllKeys();
            q.onsuccess = () => { db.close(); resolve(q.result); };
            q.onerror = () => { db.close(); reject(q.error); };
          };
        })""")

    def form_section(self, name: str) -> None:
        form_section(self.page, name)

    def submit_form(self) -> None:
        submit_form(self.page)

    def open_case(self, case: dict[str, Any]) -> None:
        """From anywhere, through the caseload, to one case (a Demo.open_cases item)."""
        page = self.page
        page.get_by_role("link", name="Caseload", exact=True).click()
        page.locator(f"a[href='#/case/{case['case']['id']}']").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])

    def at_case(self, username: str, case: dict[str, Any], *, offline: bool = False) -> Page:
        """The usual start: open the app, sign ``username`` in, (go offline,) open ``case``."""
        page = self.open()
        self.sign_in(username)
        if offline:
            self.offline()
        self.open_case(case)
        return page

    def add_note(self, text: str) -> None:
        """On a case's screen, add a note, offline: it waits in the outbox."""
        self.page.get_by_label("Add a note to this case").fill(text)
        self.page.get_by_role("button", name="Add note").click()
        expect(self.status).to_contain_text("1 change waiting")


@pytest.fixture
def devices(browser: Browser, server_url: str) -> Iterator[Any]:
    """Factory: devices() → a new phone (a fresh browser context at 360 × 640)."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> Device:
        ctx = browser.new_context(viewport=PHONE, bypass_csp=options.pop("bypass_csp", True), **options)
        made.append(ctx)
        return Device(ctx, server_url)

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def device(devices: Any) -> Device:
    return devices()
