"""What the field app costs on the network: first load and officer1's first sync, in Chromium.

Starts ``doorstep serve --demo`` on a temporary database, opens the app in a fresh headless
Debian Chromium (360 × 640) and counts every request the page *and its service worker* make
until the worker is installed and in control (the first load), then signs officer1 in and
counts the bytes of the first sync's answers. Bytes are what crossed the wire (headers and
body as sent, compressed or not: Playwright's ``request.sizes()``); what the worker answers
or takes from the HTTP cache crosses nothing and is not counted. ``--cpu 4`` slows Chromium's
CPU four times and reports when the sign-in form showed; ``--caddy`` measures through Caddy
over TLS and HTTP/2, as deployed.

The first sync is also fetched outside the browser with httpx, once with
``Accept-Encoding: identity`` and once with ``gzip``, to show both figures side by side.

    .venv/bin/python benchmarks/pwa_bytes.py            # a table
    .venv/bin/python benchmarks/pwa_bytes.py --json     # the figures as JSON
    .venv/bin/python benchmarks/pwa_bytes.py --caddy --cpu 4 --list

Results: docs/pwa.md ("Light on the network").
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson

from _common import ROOT, Process, free_port

CHROMIUM = "/usr/bin/chromium"
HERMETIC = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
USER = "officer1"
PIN = "482915"


class Tally:
    """Every finished request of one browser context: its path, who asked, bytes on the wire."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> None:
        response = request.response()
        if response is not None and response.from_service_worker:
            return  # answered from the worker's cache: nothing crossed the network
        sizes = request.sizes()
        if sizes["responseBodySize"] + sizes["responseHeadersSize"] == 0:
            return  # taken from the HTTP cache (the worker's precache of what the page loaded)
        self.rows.append({
            "path": request.url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0],
            "worker": request.service_worker is not None,
            "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
            "body": sizes["responseBodySize"],
            "status": response.status if response else 0,
            "encoding": (response.headers.get("content-encoding", "") if response else ""),
        })

    def since(self, start: int) -> list[dict[str, Any]]:
        return self.rows[start:]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    shell = [r for r in rows if not r["path"].startswith("api/")]
    counts = Counter(r["path"] for r in shell if r["body"] > 100)  # a revalidation (a 304) carries no body
    return {"requests": len(rows), "bytes": sum(r["bytes"] for r in rows), "body_bytes": sum(r["body"] for r in rows),
            "shell_requests": len(shell), "shell_bytes": sum(r["bytes"] for r in shell),
            "fetched_twice": sorted(p for p, n in counts.items() if n > 1),
            "compressed": sum(1 for r in rows if r["encoding"])}


def first_sync_http(base: str, verify: bool = True) -> dict[str, Any]:
    """officer1's first pull, every page, as the app asks for it: identity and gzip sizes."""
    from fixtures.demo import DEMO_PASSWORD

    with httpx.Client(base_url=base, timeout=60, verify=verify) as client:
        r = client.post("/api/auth/login", json={"username": USER, "password": DEMO_PASSWORD[USER],
                                                  "device_name": "pwa_bytes"})
        r.raise_for_status()
        auth = {"Authorization": f"Bearer {r.json()['access_token']}", "Doorstep-Protocol": "1"}
        out: dict[str, Any] = {}
        for encoding in ("identity", "gzip"):
            cursor, wire, changes = None, 0, 0
            for _ in range(1000):
                params = {"cursor": cursor} if cursor else {}
                with client.stream("GET", "/api/sync/pull", params=params,
                                   headers={**auth, "Accept-Encoding": encoding}) as resp:
                    resp.raise_for_status()
                    raw = b"".join(resp.iter_raw())
                    wire += len(raw)
                    body = orjson.loads(_gunzip(raw, resp))
                changes += len(body["changes"])
                cursor = body["cursor"]
                if not body["has_more"]:
                    break
            out[encoding] = wire
            out["changes"] = changes
        return out


def _gunzip(raw: bytes, resp: httpx.Response) -> bytes:
    import gzip

    return gzip.decompress(raw) if resp.headers.get("content-encoding") == "gzip" else raw


CADDYFILE = """{{
\tadmin off
\tskip_install_trust
\tstorage file_system {storage}
\thttp_port {http_port}
\thttps_port {https_port}
\tdefault_bind 127.0.0.1
}}
https://localhost:{https_port} {{
\ttls internal
\treverse_proxy 127.0.0.1:{upstream}
}}
"""


def caddy(folder: str, upstream: int) -> tuple[Process, str]:
    """Debian's Caddy in front of the server as docs/deploy.md has it (TLS, HTTP/2), with its
    own internal CA for localhost: the headers go HPACK-compressed, as they do in production."""
    https_port = free_port()
    conf = Path(folder) / "Caddyfile"
    conf.write_text(CADDYFILE.format(storage=f"{folder}/caddy", http_port=free_port(), https_port=https_port,
                                     upstream=upstream))
    base = f"https://localhost:{https_port}"
    proc = Process(["caddy", "run", "--config", str(conf), "--adapter", "caddyfile"],
                   f"http://127.0.0.1:{upstream}/api/health", f"{folder}/caddy.log",
                   env={"HOME": folder, "XDG_DATA_HOME": f"{folder}/data", "XDG_CONFIG_HOME": f"{folder}/config"})
    return proc, base


def trusted(folder: str) -> str:
    """Chromium's flag that trusts Caddy's internal CA (so the HTTP cache works as with a real
    certificate: Chromium caches nothing from a site whose certificate it merely ignores)."""
    from tests.browser.test_deploy_tls import spki_sha256  # the one DER walk, not a second

    authority = Path(folder) / "caddy" / "pki" / "authorities" / "local"
    spki = ",".join(spki_sha256((authority / f"{n}.crt").read_text()) for n in ("root", "intermediate"))
    return f"--ignore-certificate-errors-spki-list={spki}"


def wait_tls(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/health", verify=False, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"caddy did not answer {base} in {timeout} s")


def measure(base: str, *, tls: str = "", cpu: float = 1) -> dict[str, Any]:
    from playwright.sync_api import expect, sync_playwright

    from fixtures.demo import DEMO_PASSWORD

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[HERMETIC, *([tls] if tls else [])])
        try:
            ctx = browser.new_context(viewport={"width": 360, "height": 640}, bypass_csp=True)  # for wait_for_function
            tally = Tally()
            ctx.on("requestfinished", tally)
            page = ctx.new_page()
            if cpu > 1:
                ctx.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": cpu})
            started = time.perf_counter()
            page.goto(base + "/app/")
            expect(page.get_by_label("Username")).to_be_visible(timeout=30_000)
            form_ms = (time.perf_counter() - started) * 1000
            expect(page.locator("html[data-ready='1']")).to_be_attached(timeout=30_000)
            page.wait_for_function("navigator.serviceWorker.controller?.state === 'activated'", timeout=30_000)
            page.wait_for_load_state("networkidle")
            time.sleep(1.0)  # stragglers (icons, manifest)
            first = {**summary(tally.since(0)), "signin_form_ms": round(form_ms)}
            mark = len(tally.rows)
            page.get_by_label("Username").fill(USER)
            page.get_by_label("Password").fill(DEMO_PASSWORD[USER])
            page.get_by_role("button", name="Sign in").click()
            page.get_by_label("PIN", exact=True).fill(PIN)
            page.get_by_label("Confirm PIN", exact=True).fill(PIN)
            page.get_by_role("button", name="Set PIN").click()
            expect(page.get_by_role("status")).to_contain_text("All synced", timeout=60_000)
            pulls = [r for r in tally.since(mark) if r["path"] == "api/sync/pull"]
            sync = {"pages": len(pulls), "bytes": sum(r["bytes"] for r in pulls),
                    "body": sum(r["body"] for r in pulls), "compressed": all(r["encoding"] for r in pulls)}
            ctx.close()
        finally:
            browser.close()
    return {"first_load": first, "first_sync_browser": sync,
            "first_sync_http": first_sync_http(base, verify=not tls),  # (the figures are the same)
            "requests": tally.rows[:mark]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--list", action="store_true", help="also list every first-load request")
    ap.add_argument("--cpu", type=float, default=1, help="CPU slow-down for Chromium (4: a mid-range phone)")
    ap.add_argument("--caddy", action="store_true",
                    help="through Debian's Caddy over TLS and HTTP/2, as deployed (docs/deploy.md)")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = Process([sys.executable, "-m", "server.cli", "--db", f"{tmp}/doorstep.db", "serve",
                          "--host", "127.0.0.1", "--port", str(port), "--demo"],
                         base + "/api/health", f"{tmp}/server.log", cwd=ROOT)
        with server:
            if args.caddy:
                proxy, base = caddy(tmp, port)
                with proxy:
                    wait_tls(base)
                    figures = measure(base, tls=trusted(tmp), cpu=args.cpu)
            else:
                figures = measure(base, cpu=args.cpu)
    if args.json:
        print(orjson.dumps({k: v for k, v in figures.items() if k != "requests"},
                           option=orjson.OPT_INDENT_2).decode())
        return 0
    load, sync, http = figures["first_load"], figures["first_sync_browser"], figures["first_sync_http"]
    if args.list:
        for r in figures["requests"]:
            who = "sw  " if r["worker"] else "page"
            print(f"  {who} {r['status']} {r['bytes']:>8,} {r['encoding'] or '-':>5} {r['path']}")
    print(f"first load: {load['requests']} requests, {load['bytes']:,} bytes "
          f"({load['compressed']} compressed); shell files fetched twice: {len(load['fetched_twice'])}; "
          f"sign-in form shown after {load['signin_form_ms']:,} ms")
    print(f"first sync in the browser ({USER}): {sync['pages']} page(s), {sync['bytes']:,} bytes on the wire"
          f"{' (gzip)' if sync['compressed'] else ''}")
    print(f"first sync over HTTP: {http['changes']} changes, {http['identity']:,} bytes identity, "
          f"{http['gzip']:,} bytes gzip")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
