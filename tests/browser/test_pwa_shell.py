"""The installable shell: manifest, icons, service worker, offline start, sign-in and caseload."""
from __future__ import annotations

import struct

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_manifest_icons_and_worker_are_served(server_url: str) -> None:
    m = httpx.get(server_url + "/app/manifest.webmanifest").json()
    assert m["name"] and m["short_name"] == "Doorstep"
    assert m["start_url"] == "/app/" and m["display"] == "standalone" and m["theme_color"]
    sizes = {}
    for icon in m["icons"]:
        data = httpx.get(f"{server_url}/app/{icon['src']}").content
        sizes[icon["sizes"]] = png_size(data)
        assert icon["sizes"] == "{}x{}".format(*png_size(data))
    assert {"192x192", "512x512"} <= set(sizes)
    sw = httpx.get(server_url + "/app/sw.js")
    assert sw.status_code == 200 and "no-cache" in sw.headers.get("cache-control", "")


def test_sign_in_shows_only_my_caseload_and_it_opens_offline(devices, demo) -> None:
    mine = demo.open_cases("officer1")
    others = [c for u in ("officer2", "officer3", "officer4") for c in demo.open_cases(u)]
    assert mine and others
    phone = devices()
    page = phone.open()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    phone.sign_in("officer1")
    cards = page.get_by_role("list", name="Open cases").get_by_role("listitem")
    expect(cards).to_have_count(len(mine))
    shown = {a.get_attribute("href") for a in page.locator("ul.cards a.card").all()}
    assert shown == {f"#/case/{c['case']['id']}" for c in mine}
    assert not shown & {f"#/case/{c['case']['id']}" for c in others}
    # Severe first.
    bands = [page.locator("ul.cards li").nth(i).locator(".badge").first.inner_text() for i in range(len(mine))]
    rank = {"Severe absence": 0, "Persistent absence": 1, "At risk": 2, "Attendance OK": 3}
    assert [rank[b] for b in bands] == sorted(rank[b] for b in bands)

    # Network off, reload: the app and the caseload are there.
    phone.offline()
    resp = page.reload()
    assert resp is not None and resp.ok and resp.from_service_worker
    phone.unlock()  # reopened: the PIN opens it, offline
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(cards).to_have_count(len(mine))
    expect(phone.status).to_contain_text("Offline")
    # A case screen works offline too.
    phone.open_case(mine[0])
    expect(page.get_by_role("button", name="Record visit")).to_be_visible()
    assert not phone.errors


def test_api_answers_are_never_cached(devices) -> None:
    phone = devices()
    page = phone.open()
    phone.sign_in("officer2")
    urls = page.evaluate("""async () => {
      const out = [];
      for (const name of await caches.keys()) {
        for (const req of await (await caches.open(name)).keys()) out.push(req.url);
      }
      return out;
    }""")
    assert any(u.endswith("/app/app.js") for u in urls)
    assert not [u for u in urls if "/api/" in u]


def test_the_app_keeps_to_the_servers_content_security_policy(devices) -> None:
    phone = devices(bypass_csp=False)
    violations: list[str] = []
    phone.page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page = phone.open(wait_worker=False)
    phone.sign_in("officer3")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    page.locator("ul.cards a.card").first.click()
    page.get_by_role("button", name="Record visit").click()
    expect(page.get_by_label("Outcome")).to_be_visible()
    assert not violations, violations
    assert not phone.errors


def test_with_location_allowed_the_nearest_case_comes_first_within_its_band(devices, demo) -> None:
    cases = [c for c in demo.open_cases("officer1") if c["household"] and c["household"].get("lat") is not None]
    by_band: dict[str, list] = {}
    for c in cases:
        by_band.setdefault(c["pupil"]["band"], []).append(c)
    band, group = max(by_band.items(), key=lambda kv: len(kv[1]))
    assert len(group) >= 2
    target = group[-1]
    here = {"latitude": target["household"]["lat"], "longitude": target["household"]["lon"], "accuracy": 10}
    phone = devices(geolocation=here, permissions=["geolocation"])
    page = phone.open()
    phone.sign_in("officer1")
    expect(page.get_by_text("Sorted by band, then by distance from you.")).to_be_visible()
    where = {c["case"]["id"]: (c["household"]["lat"], c["household"]["lon"]) for c in group}
    expect(page.locator(f"a[href='#/case/{target['case']['id']}']")).to_contain_text("0 m away")
    hrefs = [a.get_attribute("href") for a in page.locator("ul.cards a.card").all()]
    in_band = [h.removeprefix("#/case/") for h in hrefs if h and h.removeprefix("#/case/") in where]
    # The first of the band is at the officer's position (siblings may share the household).
    assert where[in_band[0]] == where[target["case"]["id"]]
