"""Light on the network (issue 17, item 6): answers are compressed when the client asks, and on
a first load each shell file's bytes cross the network once (the worker's precache), with the
page's own module loads answered from the worker's cache. Figures: benchmarks/pwa_bytes.py."""
from __future__ import annotations

import gzip
from collections import Counter
from typing import Any

import httpx
import pytest

from server.pwa_shell import shell_files

from .conftest import ROOT, SYNC, expect

pytestmark = pytest.mark.browser


def test_api_answers_and_the_shell_are_gzipped_only_when_asked(server_url: str, demo) -> None:
    officer = demo.office
    auth = {"Authorization": f"Bearer {officer.token}", **SYNC}
    with httpx.Client(base_url=server_url, timeout=30) as http:
        zipped = http.get("/api/sync/pull", headers={**auth, "Accept-Encoding": "gzip"})
        plain = http.get("/api/sync/pull", headers={**auth, "Accept-Encoding": "identity"})
        assert zipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["vary"]
        assert "content-encoding" not in plain.headers and "Accept-Encoding" in plain.headers["vary"]
        assert zipped.json()["changes"] == plain.json()["changes"]  # the same answer, fewer bytes
        assert int(zipped.headers["content-length"]) < len(plain.content) / 3
        assert zipped.headers["server-timing"].startswith("app;dur=")  # still timed
        assert zipped.headers["cache-control"] == "no-store"
        # a tiny answer is sent as it is
        health = http.get("/api/health", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in health.headers
        # the shell: compressed, its ETag weak (another representation), and still revalidated
        js = http.get("/app/schema.js", headers={"Accept-Encoding": "gzip"})
        assert js.headers["content-encoding"] == "gzip" and js.headers["etag"].startswith('W/"')
        assert js.headers["cache-control"] == "no-cache"
        again = http.get("/app/schema.js", headers={"Accept-Encoding": "gzip", "If-None-Match": js.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == js.headers["etag"]
        with http.stream("GET", "/app/schema.js", headers={"Accept-Encoding": "gzip"}) as raw:
            body = b"".join(raw.iter_raw())
        assert gzip.decompress(body) == (ROOT / "pwa" / "schema.js").read_bytes()
        # nothing with a secret in it: sign-in answers (tokens), office pages (a CSRF token)
        login = http.post("/api/auth/login", headers={"Accept-Encoding": "gzip"},
                          json={"username": "nobody", "password": "x" * 2000, "device_name": "d" * 900})
        assert login.status_code in (401, 422) and "content-encoding" not in login.headers
        office = http.get("/office/login", headers={"Accept-Encoding": "gzip"})
        assert office.status_code == 200 and "content-encoding" not in office.headers
        css = http.get("/office/static/office.css", headers={"Accept-Encoding": "gzip"})
        assert css.headers["content-encoding"] == "gzip"
        # images are already compressed: sent as they are
        png = http.get("/app/icons/icon-512.png", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in png.headers


def test_a_first_load_fetches_each_shell_file_once(devices) -> None:
    device = devices()
    rows: list[dict[str, Any]] = []

    def finished(request: Any) -> None:
        response = request.response()
        sizes = request.sizes()
        if (response and response.from_service_worker) or sizes["responseBodySize"] + sizes["responseHeadersSize"] == 0:
            return  # answered by the worker, or from the HTTP cache: nothing crossed the network
        rows.append({"path": request.url.split("/app/", 1)[-1].split("?")[0] or "./",
                     "body": sizes["responseBodySize"],
                     "encoding": response.headers.get("content-encoding", "") if response else ""})

    device.context.on("requestfinished", finished)
    page = device.open()  # returns once the worker is active: its precache is fetched
    page.wait_for_load_state("networkidle")
    expect(page.get_by_label("Username")).to_be_visible()
    shell = shell_files((ROOT / "pwa" / "sw.js").read_text(encoding="utf-8"))
    expected = {*shell, "sw.js"} - {"index.html"}  # index.html is the './' answer
    # the worker's own fetches are reported to the context after the page's network is idle,
    # sometimes later still: wait (a bounded while) for their events to arrive
    for _ in range(100):
        if expected <= {r["path"] for r in rows}:
            break
        page.wait_for_timeout(100)
    asked = Counter(r["path"] for r in rows)
    twice = sorted(p for p, n in asked.items() if n > 1)
    assert not twice, f"requested more than once: {twice}"
    assert set(asked) == expected
    assert all(r["encoding"] == "gzip" for r in rows if r["path"].endswith(".js") and r["body"] > 1000)
    # what the worker keeps is the release's bytes, whether it came from the HTTP cache or not
    for name in ("schema.js", "app.js", "index.html"):
        kept = page.evaluate("async (u) => (await (await caches.match(u)).text())", name)
        assert kept == (ROOT / "pwa" / name).read_text(encoding="utf-8"), name
    # a reload takes nothing from the network but the worker's update check
    rows.clear()
    page.reload()
    expect(page.locator("html[data-ready='1']")).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert {r["path"] for r in rows} <= {"sw.js"}

