"""Screenshots of the field app's main screens, before and after, side by side, for docs/pwa.md.

Starts this checkout's ``doorstep serve --demo`` and, for "before", the server and PWA of an older
commit from a ``git worktree`` (``--before``, 50137d6 by default: the app before #17), signs
officer1 in on a fresh phone in Debian's Chromium at 360 × 640 in each, and takes the first
screen, without scrolling, of: sign-in, the caseload, a case, the visit form, a transport run (one
the script plans for today through the office's sync API) and Today. Each pair is written as one PNG (before left, after right, 20 px apart) to
``docs/img/pwa-17-<screen>.png``; a screen the older app did not have (Today) is written alone.

    .venv/bin/python benchmarks/pwa_screens.py                # docs/img/pwa-17-*.png
    .venv/bin/python benchmarks/pwa_screens.py --out /tmp/shots --only case visit
"""
from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path
from typing import Any

from _common import ROOT
from pwa_common import CHROMIUM, HERMETIC, USER, demo_server, require_chromium, set_pin, sign_in

SCREENS = ["signin", "caseload", "case", "visit", "transport", "today"]
CASE = "Ibrahim Akhtar"  # a demo case of officer1's (fixtures/demo.py), the same in both versions
WIDTH, HEIGHT, GAP = 360, 640, 20


def todays_run(base: str) -> None:
    """Today's run for officer1 through three of its cases' homes, as the office plans one (the demo
    data has no runs): made through the sync API, as tests/browser/test_pwa_transport.py does."""
    import datetime as dt
    import uuid

    from tests.browser.conftest import Demo

    demo = Demo(base)
    try:
        cases = [c for c in demo.open_cases(USER) if c["household"]][:3]
        today = dt.date.today().isoformat()
        run_id = str(uuid.uuid4())
        demo.office.put("transport_run", run_id, {
            "date": today, "school_id": cases[0]["pupil"]["school_id"], "driver_id": demo.user(USER)["id"],
            "vehicle": "Minibus YX21 ABC", "seats": 8, "status": "planned"}, None)
        for i, c in enumerate(cases):
            hh = c["household"]
            demo.office.put("transport_stop", str(uuid.uuid4()), {
                "run_id": run_id, "position": i + 1, "pupil_id": c["pupil"]["id"],
                "household_id": c["pupil"]["household_id"], "lat": hh.get("lat"), "lon": hh.get("lon"),
                "eta": f"{today}T08:{10 + 7 * i:02d}:00Z", "status": "pending"}, None)
    finally:
        demo.close()


def shoot(base: str) -> dict[str, bytes | None]:
    """The first screen of each of SCREENS in one fresh phone; None where the app has no such screen."""
    from playwright.sync_api import expect, sync_playwright

    out: dict[str, bytes | None] = {}
    todays_run(base)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[HERMETIC])
        try:
            ctx = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, bypass_csp=True)
            page = ctx.new_page()
            page.goto(base + "/app/")
            page.wait_for_selector("html[data-ready='1']", timeout=60_000)
            expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
            out["signin"] = page.screenshot()
            sign_in(page)
            set_pin(page)
            expect(page.get_by_role("status")).to_contain_text("All synced", timeout=60_000)
            expect(page.get_by_role("link", name=CASE).first).to_be_visible(timeout=30_000)
            out["caseload"] = shot(page)
            page.get_by_role("link", name=CASE).first.click()
            expect(page.get_by_role("heading", level=1, name=CASE)).to_be_visible()
            out["case"] = shot(page)
            page.get_by_role("button", name="Record visit").first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("visit", ignore_case=True)
            out["visit"] = shot(page)
            page.goto(base + "/app/#/runs")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            runs = page.locator("main ul.cards a")
            if runs.count():
                runs.first.click()
                expect(page.locator("main h1")).to_be_visible()
            out["transport"] = shot(page)
            page.goto(base + "/app/#/today")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.wait_for_timeout(300)
            has_today = "today" in (page.locator("main h1").inner_text().lower())
            out["today"] = shot(page) if has_today else None
            ctx.close()
        finally:
            browser.close()
    return out


def shot(page: Any) -> bytes:
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(200)  # the scroll and any redraw after a sync settle
    return page.screenshot()


def side_by_side(before: bytes | None, after: bytes) -> bytes:
    from PIL import Image

    right = Image.open(io.BytesIO(after))
    if before is None:
        image = right
    else:
        left = Image.open(io.BytesIO(before))
        image = Image.new("RGB", (left.width + GAP + right.width, max(left.height, right.height)), "white")
        image.paste(left, (0, 0))
        image.paste(right, (left.width + GAP, 0))
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="50137d6", help="the commit shown on the left")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for pwa-17-<screen>.png")
    ap.add_argument("--only", nargs="*", choices=SCREENS, help="write only these screens")
    args = ap.parse_args(argv)
    if not require_chromium():
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        with demo_server(tmp, args.before) as base:
            before = shoot(base)
        with demo_server(tmp) as base:
            after = shoot(base)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or SCREENS:
        if after.get(name) is None:
            print(f"{name}: not shown by this checkout; skipped")
            continue
        path = args.out / f"pwa-17-{name}.png"
        path.write_bytes(side_by_side(before.get(name), after[name]))
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
              f"{'before and after' if before.get(name) else 'after only (the older app has no such screen)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
