"""The deployment of docs/deploy.md, for real: Debian's Caddy, run from the repository's
``docs/deploy/Caddyfile`` (its own internal CA instead of a public one, high ports instead of
80 and 443), in front of a real ``doorstep serve`` started with the settings of
``docs/deploy/doorstep.service``, driven by Chromium.

Chromium trusts Caddy's CA through ``--ignore-certificate-errors-spki-list`` (the SHA-256 of
the root's and the intermediate's public keys): unlike Playwright's ``ignore_https_errors``,
a certificate accepted this way counts as valid, so the origin may register a service worker.
The host name is ``doorstep.test`` (mapped to 127.0.0.1), not localhost, so nothing here is a
secure context unless TLS made it one.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.live_server import LiveServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
CHROMIUM = "/usr/bin/chromium"
HOST = "doorstep.test"
OFFICE_PASSWORD = "deploy-tls-office-password"
HSTS_MIN_AGE = 365 * 24 * 3600


def unit_settings() -> dict[str, str]:
    """The ``DOORSTEP_*`` settings doorstep.service gives the server (the test passes --db itself)."""
    env = dict(re.findall(r"^Environment=(DOORSTEP_[A-Z0-9_]+)=(.*)$", (DEPLOY / "doorstep.service").read_text(),
                          re.MULTILINE))
    env.pop("DOORSTEP_DB", None)
    assert env, "doorstep.service sets no DOORSTEP_* setting"
    return env


def caddyfile_for_test(http_port: int, https_port: int, upstream: int, storage: Path) -> str:
    """docs/deploy/Caddyfile with the test's global options, host, ports and ``tls internal``."""
    text = (DEPLOY / "Caddyfile").read_text()
    site = re.sub(r"^\{\n.*?^\}\n", "", text, count=1, flags=re.MULTILINE | re.DOTALL)
    assert "doorstep.example.gov.uk {" in site and "reverse_proxy 127.0.0.1:8000" in site, site
    site = site.replace("doorstep.example.gov.uk {", f"{HOST}:{https_port} {{\n\ttls internal")
    site = site.replace("reverse_proxy 127.0.0.1:8000", f"reverse_proxy 127.0.0.1:{upstream}")
    # https_port stays 443 (nothing listens there): Caddy's redirect names the site's own port
    # only when it differs from https_port.
    options = (f"{{\n\tadmin off\n\tskip_install_trust\n\tstorage file_system {storage}\n"
               f"\thttp_port {http_port}\n\tdefault_bind 127.0.0.1\n}}\n")
    return options + site


def _tlv(der: bytes, i: int) -> tuple[int, int, int]:
    """One DER element at ``i``: (tag, start of contents, end)."""
    tag, length, i = der[i], der[i + 1], i + 2
    if length & 0x80:
        n = length & 0x7F
        length, i = int.from_bytes(der[i:i + n], "big"), i + n
    return tag, i, i + length


def spki_sha256(pem: str) -> str:
    """Base64 SHA-256 of a certificate's SubjectPublicKeyInfo, as Chromium's SPKI list takes it."""
    der = base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----")))
    _, tbs, _ = _tlv(der, _tlv(der, 0)[1])  # Certificate → tbsCertificate
    i = tbs
    if der[i] == 0xA0:  # [0] version
        i = _tlv(der, i)[2]
    for _ in range(5):  # serial, signature, issuer, validity, subject
        i = _tlv(der, i)[2]
    return base64.b64encode(hashlib.sha256(der[i:_tlv(der, i)[2]]).digest()).decode()


@dataclass
class Stack:
    https: str  # https://doorstep.test:PORT
    upstream: str  # the Doorstep server itself, http://127.0.0.1:PORT
    http_port: int
    https_port: int
    ca: Path  # Caddy's root certificate
    browser: Browser

    def client(self) -> httpx.Client:
        """Talks TLS to Caddy on 127.0.0.1 as if to doorstep.test (SNI, Host), trusting only Caddy's CA."""
        return httpx.Client(base_url=f"https://127.0.0.1:{self.https_port}", timeout=10,
                            verify=ssl.create_default_context(cafile=str(self.ca)),
                            headers={"Host": f"{HOST}:{self.https_port}"})

    def get(self, client: httpx.Client, path: str, **kw: Any) -> httpx.Response:
        return client.get(path, extensions={"sni_hostname": HOST}, **kw)


def _wait_for_caddy(proc: subprocess.Popen[bytes], log: Path, ca: Path, https_port: int) -> None:
    deadline = time.monotonic() + 60
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"caddy exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        if ca.exists():
            try:
                with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=2) as c:
                    r = c.get(f"https://127.0.0.1:{https_port}/api/health", extensions={"sni_hostname": HOST},
                              headers={"Host": f"{HOST}:{https_port}"})
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except (httpx.HTTPError, ssl.SSLError) as exc:
                last = repr(exc)
        time.sleep(0.2)
    pytest.fail(f"caddy did not serve /api/health over TLS within 60 s ({last}):\n"
                f"{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def stack(chromium_browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    caddy = shutil.which("caddy")
    if caddy is None:  # never a silent skip: .ci/setup installs it
        pytest.fail("caddy is not installed (bash .ci/setup installs Debian's caddy)")
    folder = tmp_path_factory.mktemp("deploy-tls")
    db = str(folder / "doorstep.db")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in unit_settings().items():
            mp.setenv(name, value)
        mp.setenv("DOORSTEP_PASSWORD", OFFICE_PASSWORD)
        from server.cli import main

        assert main(["--db", db, "user", "add", "deskclerk", "--role", "office"]) == 0
        server = LiveServer(db).start()
    http_port, https_port = free_port(), free_port()
    storage = folder / "caddy"
    (folder / "Caddyfile").write_text(caddyfile_for_test(http_port, https_port, server.port, storage))
    log = folder / "caddy.log"
    env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(folder / "data"),
           "XDG_CONFIG_HOME": str(folder / "config")}
    with open(log, "wb") as out:
        proc = subprocess.Popen([caddy, "run", "--config", str(folder / "Caddyfile"), "--adapter", "caddyfile"],
                                cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    browser = None
    try:
        authority = storage / "pki" / "authorities" / "local"
        _wait_for_caddy(proc, log, authority / "root.crt", https_port)
        spki = ",".join(spki_sha256((authority / f"{name}.crt").read_text()) for name in ("root", "intermediate"))
        browser = chromium_browser.browser_type.launch(executable_path=CHROMIUM, args=[
            f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--ignore-certificate-errors-spki-list={spki}"])
        yield Stack(f"https://{HOST}:{https_port}", server.url, http_port, https_port, authority / "root.crt", browser)
    finally:
        if browser is not None:
            browser.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        server.stop()


def test_spki_hash_matches_the_standard_recipe(stack: Stack) -> None:
    """The DER walk above gives what ``openssl x509 -pubkey | openssl pkey -pubin -outform der |
    sha256`` gives (when openssl is there to ask)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: nothing to compare with")
    pub = subprocess.run([openssl, "x509", "-pubkey", "-noout", "-in", str(stack.ca)], capture_output=True,
                         check=True).stdout
    der = subprocess.run([openssl, "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True,
                         check=True).stdout
    assert spki_sha256(stack.ca.read_text()) == base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_plain_http_redirects_to_https(stack: Stack) -> None:
    plain = f"http://127.0.0.1:{stack.http_port}"
    r = httpx.get(plain + "/office/login?next=%2Foffice%2F", headers={"Host": f"{HOST}:{stack.http_port}"},
                  timeout=10)
    assert r.status_code in (301, 308), r.text
    assert r.headers["location"] == f"{stack.https}/office/login?next=%2Foffice%2F"
    # and in the browser, on a first visit (a fresh context: no HSTS remembered yet)
    context = stack.browser.new_context()
    try:
        page = context.new_page()
        resp = page.goto(f"http://{HOST}:{stack.http_port}/app/")
        assert resp is not None and resp.ok
        assert page.url == f"{stack.https}/app/"
        assert resp.request.redirected_from is not None
        assert resp.request.redirected_from.url == f"http://{HOST}:{stack.http_port}/app/"
    finally:
        context.close()


def test_the_pwa_installs_its_service_worker_over_https(stack: Stack) -> None:
    context = stack.browser.new_context(viewport={"width": 360, "height": 640}, bypass_csp=True)
    try:
        page = context.new_page()
        errors: list[str] = []
        console: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("requestfailed", lambda r: console.append(f"failed: {r.url} {r.failure}"))
        resp = page.goto(stack.https + "/app/")
        assert resp is not None and resp.ok
        assert int(re.search(r"max-age=(\d+)", resp.headers["strict-transport-security"])[1]) >= HSTS_MIN_AGE
        try:
            expect(page.locator("html[data-ready='1']")).to_be_attached()
        except AssertionError as exc:
            raise AssertionError(f"the app did not start over https: {errors}\n" + "\n".join(console)) from exc
        assert page.evaluate("[location.protocol, window.isSecureContext]") == ["https:", True]
        page.wait_for_function("navigator.serviceWorker.controller?.state === 'activated'")
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == stack.https + "/app/sw.js"
        # installed for real: with the network gone, the worker answers the reload
        context.set_offline(True)
        again = page.reload()
        assert again is not None and again.ok and again.from_service_worker
        expect(page.locator("html[data-ready='1']")).to_be_attached()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
        assert not errors
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/app/", "/app/sw.js", "/api/health", "/office/login", "/api/no-such-thing"])
def test_every_answer_carries_hsts(stack: Stack, path: str) -> None:
    with stack.client() as c:
        r = stack.get(c, path)
    assert r.status_code < 500, r.text
    hsts = r.headers.get_list("strict-transport-security")
    assert len(hsts) == 1, hsts  # set once, by Caddy
    assert int(re.search(r"max-age=(\d+)", hsts[0])[1]) >= HSTS_MIN_AGE
    # and only by Caddy (docs/deploy.md says why): the application itself never sends it
    direct = httpx.get(stack.upstream + path, headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert "strict-transport-security" not in direct.headers


def test_the_offices_cookies_are_secure(stack: Stack) -> None:
    context = stack.browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(stack.https + "/office/login")
        page.get_by_label("Username").fill("deskclerk")
        page.get_by_label("Password").fill(OFFICE_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1, name="Overview")).to_be_visible()
        cookies = context.cookies()
        assert "doorstep_office" in {c["name"] for c in cookies}, cookies
        for cookie in cookies:
            assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    finally:
        context.close()
    with stack.client() as c:  # the sign-in form's cookie, as the server words it
        set_cookie = stack.get(c, "/office/login").headers.get_list("set-cookie")
    assert set_cookie and all("secure" in [a.strip().lower() for a in v.split(";")] for v in set_cookie)
