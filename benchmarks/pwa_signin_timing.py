"""Sign-in to caseload in real Chromium with the CPU four times slower, as an officer meets it.

Starts ``doorstep serve --demo`` on a temporary database (with ``--before REF`` also an older
commit's server and PWA from a ``git worktree``), opens ``/app/`` in Debian's Chromium at
360 × 640 with ``Emulation.setCPUThrottlingRate`` (``--cpu``, 4 by default: a mid-range phone)
and times officer1 from pressing "Sign in" to the caseload's cards shown:

- **first**: a fresh phone (nothing stored; the shell was just loaded over the network);
- **second**: the same phone signed out (which deletes its data) and the page reopened, so the
  shell comes from the service worker's cache.

Each time is the app's own: from the press of "Sign in" to the PIN screen, plus from the press
of "Set PIN" to the first case card (the seconds a person takes to type a PIN are left out; the
PIN is typed by Playwright in a few milliseconds). The median of ``--runs`` phones is shown,
with where the time went in the median run (the login request, the PIN, each sync request).

    .venv/bin/python benchmarks/pwa_signin_timing.py                      # median of 5
    .venv/bin/python benchmarks/pwa_signin_timing.py --before 50137d6 --runs 3 --json

Results: docs/pwa.md ("Lighthouse and sign-in time").
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from typing import Any

from pwa_common import CHROMIUM, HERMETIC, demo_server, require_chromium, set_pin, sign_in

CARD = "ul.cards li a.card"


# Installed in the page after each load: the page's own clock (performance.now()) at each press
# (the form's submit event) and at the first frame after a screen's element is in the DOM.
WATCH = """() => {
  const t = (window.__timing = { submits: [], seen: {} });
  document.addEventListener('submit', () => t.submits.push(performance.now()), true);
  const marks = { pin: '[data-screen=set-pin]', cards: 'ul.cards li a.card' };
  const look = () => {
    for (const [name, sel] of Object.entries(marks)) {
      if (!(name in t.seen) && document.querySelector(sel)) {
        t.seen[name] = null;
        requestAnimationFrame(() => setTimeout(() => { t.seen[name] = performance.now(); }, 0));
      }
    }
  };
  new MutationObserver(look).observe(document.body, { childList: true, subtree: true });
}"""
READ = """() => ({ ...window.__timing, api: performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/'))
  .map((e) => [e.name.split('/api/')[1].split('?')[0], e.startTime, e.responseEnd]) })"""


def one_sign_in(page: Any) -> dict[str, Any]:
    """Press Sign in, set the PIN, wait for the first case card: the app's time, in parts (page clock)."""
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Sign in")).to_be_enabled(timeout=60_000)
    page.evaluate(WATCH)
    sign_in(page)
    # Waited for with a cheap check every 100 ms: Playwright's own locators take the page's CPU too.
    page.wait_for_function("window.__timing.seen.pin > 0", polling=100, timeout=60_000)
    set_pin(page)
    page.wait_for_function("window.__timing.seen.cards > 0", polling=100, timeout=120_000)
    expect(page.get_by_role("status")).to_contain_text("All synced", timeout=120_000)
    t = page.evaluate(READ)
    signin_at, pin_at = t["submits"][0], t["submits"][-1]
    to_pin = t["seen"]["pin"] - signin_at
    to_cards = t["seen"]["cards"] - pin_at
    return {"ms": round(to_pin + to_cards), "to_pin_ms": round(to_pin), "pin_to_cards_ms": round(to_cards),
            "requests": [(path, round(a - signin_at), round(b - signin_at)) for path, a, b in t["api"]
                         if a >= signin_at],
            "pin_pressed_at": round(pin_at - signin_at)}


def sign_out(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(page.url.split("#")[0] + "#/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)


def phone(browser: Any, base: str, cpu: float) -> dict[str, Any]:
    """One fresh phone: the first sign-in, then a second after signing out and reopening the app."""
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, bypass_csp=True)  # for wait_for_function
    try:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
        page.goto(base + "/app/")
        page.wait_for_selector("html[data-ready='1']", timeout=60_000)
        page.wait_for_function("navigator.serviceWorker.controller?.state === 'activated'", timeout=60_000)
        first = one_sign_in(page)
        sign_out(page)
        page.goto(base + "/app/")
        page.wait_for_selector("html[data-ready='1']", timeout=60_000)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
        second = one_sign_in(page)
        return {"first": first, "second": second}
    finally:
        ctx.close()


def measure(base: str, runs: int, cpu: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    phones = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[HERMETIC])
        try:
            for _ in range(runs):
                phones.append(phone(browser, base, cpu))
        finally:
            browser.close()
    out: dict[str, Any] = {}
    for which in ("first", "second"):
        times = sorted(phones, key=lambda r: r[which]["ms"])
        out[which] = {"median_ms": statistics.median(r[which]["ms"] for r in phones),
                      "all_ms": [r[which]["ms"] for r in times],
                      "median_run": times[(len(times) - 1) // 2][which]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", action="append", default=[], metavar="REF",
                    help="also measure this commit's server and PWA (a git worktree); repeatable")
    ap.add_argument("--runs", type=int, default=5, help="phones (fresh browser contexts); the median is shown")
    ap.add_argument("--cpu", type=float, default=4, help="CPU slow-down (Emulation.setCPUThrottlingRate)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not require_chromium():
        return 2
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for ref in [*args.before, None]:
            with demo_server(tmp, ref) as base:
                results[ref or "this checkout"] = measure(base, args.runs, args.cpu)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for label, r in results.items():
        print(f"{label} (CPU x{args.cpu:g}, {args.runs} phones):")
        for which, words in (("first", "first sign-in"), ("second", "second, shell cached")):
            f = r[which]
            run = f["median_run"]
            print(f"  {words}: median {f['median_ms'] / 1000:.2f} s (all: {', '.join(f'{m / 1000:.2f}' for m in f['all_ms'])}); "
                  f"median run: sign in -> PIN screen {run['to_pin_ms']} ms, Set PIN -> cards {run['pin_to_cards_ms']} ms")
            print(f"      (Set PIN pressed at {run['pin_pressed_at']} ms)")
            for path, start, end in run["requests"]:
                print(f"      {path:<22} {start:>6} -> {end:>6} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
