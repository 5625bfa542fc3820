"""Lighthouse on the field app's sign-in screen, as a new user first opens it.

Starts ``doorstep serve --demo`` on a temporary database (and, with ``--before REF``, the server
and PWA of an older commit from a ``git worktree`` of it, side by side) and runs Lighthouse
12.2.3 (npm ``lighthouse``; 13 needs Node 22) in Debian's Chromium with its mobile profile:
a Moto G Power's 412 × 823 screen, simulated slow 4G (150 ms, 1.6 Mbit/s) and a CPU four times
slower. Lighthouse starts each run with an empty profile (no service worker, nothing cached).
Prints the four category scores, the metrics, the largest contentful paint's element and every
opportunity with something to save; the median run of ``--runs`` (by performance score).

Lighthouse is a benchmark tool, not a CI dependency. Install it once into ``benchmarks/``
(``package.json`` and ``package-lock.json`` pin it; ``node_modules`` is not committed):

    (cd benchmarks && npm ci)
    .venv/bin/python benchmarks/pwa_lighthouse.py                      # this checkout
    .venv/bin/python benchmarks/pwa_lighthouse.py --before 50137d6     # and an older commit beside it
    .venv/bin/python benchmarks/pwa_lighthouse.py --json --keep /tmp/lh  # figures as JSON, reports kept

Results: docs/pwa.md ("Lighthouse and sign-in time").
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import ROOT
from pwa_common import CHROMIUM, HERMETIC, demo_server, require_chromium

LIGHTHOUSE = ROOT / "benchmarks" / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", HERMETIC]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
METRICS = {"first-contentful-paint": "FCP", "largest-contentful-paint": "LCP", "speed-index": "SI",
           "total-blocking-time": "TBT", "cumulative-layout-shift": "CLS", "interactive": "TTI"}


def run_lighthouse(url: str, out: Path, tries: int = 3) -> dict[str, Any]:
    """One Lighthouse run (mobile, the default form factor); its JSON report. A run whose trace
    Lighthouse could not record (NO_NAVSTART and the like, on a busy machine) is tried again."""
    for n in range(tries):
        try:
            return lighthouse_once(url, out)
        except RuntimeError as err:
            if n == tries - 1:
                raise
            print(f"lighthouse: {str(err)[-160:]}; trying again", file=sys.stderr)
    raise AssertionError("unreachable")


def lighthouse_once(url: str, out: Path) -> dict[str, Any]:
    out.unlink(missing_ok=True)
    argv = [str(LIGHTHOUSE), url, "--form-factor=mobile", "--output=json", f"--output-path={out}", "--quiet",
            f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={' '.join(CHROME_FLAGS)}"]
    done = subprocess.run(argv, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"lighthouse failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise RuntimeError(f"lighthouse: {report['runtimeError']}")
    return report


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """Scores, metrics (ms; CLS as it is), the LCP element and the opportunities of one report."""
    audits = report["audits"]
    scores = {k: report["categories"][k]["score"] for k in CATEGORIES}
    metrics = {short: audits[key]["numericValue"] for key, short in METRICS.items()}
    opportunities = []
    for key, audit in audits.items():
        details = audit.get("details") or {}
        saving_ms = details.get("overallSavingsMs") or 0
        saving_bytes = details.get("overallSavingsBytes") or 0
        if details.get("type") == "opportunity" and (saving_ms or saving_bytes) and (audit.get("score") or 0) < 1:
            opportunities.append({"audit": key, "title": audit["title"], "ms": round(saving_ms),
                                  "bytes": round(saving_bytes),
                                  "items": [{"url": i.get("url"), "ms": i.get("wastedMs"), "bytes": i.get("wastedBytes")}
                                            for i in details.get("items", [])[:10]]})
    failing = [{"audit": k, "title": a["title"], "score": a["score"]} for k, a in audits.items()
               if a.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings") and a.get("score") is not None
               and a["score"] < 0.9 and k not in METRICS]
    requests = (audits.get("network-requests", {}).get("details") or {}).get("items", [])
    return {"scores": scores, "metrics": metrics, "lcp_element": lcp_element(audits),
            "opportunities": opportunities, "failing": failing,
            "requests": len(requests), "transfer_bytes": sum(r.get("transferSize", 0) for r in requests),
            "observed_lcp": audits["metrics"]["details"]["items"][0].get("observedLargestContentfulPaint")}


def lcp_element(audits: dict[str, Any]) -> str | None:
    audit = audits.get("largest-contentful-paint-element") or {}
    if audit.get("scoreDisplayMode") == "error":  # Lighthouse 12.2.3 cannot read Chromium 156's trace for it
        return "not reported (Lighthouse 12.2.3 cannot read it from this Chromium's trace)"
    details = audit.get("details") or {}
    for item in details.get("items", []):
        for row in item.get("items", [item]):
            node = row.get("node")
            if node:
                return f"{node.get('selector')} \"{(node.get('nodeLabel') or '')[:60]}\""
    return None


def measure(base: str, runs: int, keep: Path, label: str) -> dict[str, Any]:
    """``runs`` Lighthouse runs on the sign-in screen; the median run by performance, and every run's score and LCP."""
    results = []
    for n in range(runs):
        results.append(figures(run_lighthouse(base + "/app/", keep / f"{label}-{n + 1}.json")))
    results.sort(key=lambda r: (r["scores"]["performance"], -r["metrics"]["LCP"]))
    median = results[(len(results) - 1) // 2]
    return {**median, "runs": [{"performance": r["scores"]["performance"], "LCP": round(r["metrics"]["LCP"])}
                               for r in results],
            "LCP_median": statistics.median(r["metrics"]["LCP"] for r in results)}


def show(label: str, f: dict[str, Any]) -> None:
    s, m = f["scores"], f["metrics"]
    print(f"{label}: performance {s['performance']:.2f}, accessibility {s['accessibility']:.2f}, "
          f"best practices {s['best-practices']:.2f}, SEO {s['seo']:.2f}")
    print("  " + ", ".join(f"{k} {v / 1000:.1f} s" if k not in ("CLS", "TBT") else
                           (f"{k} {v:.0f} ms" if k == "TBT" else f"{k} {v:.3f}") for k, v in m.items()))
    runs = ", ".join(f"{r['performance']:.2f}/{r['LCP']}" for r in f["runs"])
    print(f"  LCP element: {f['lcp_element']}; {f['requests']} requests, {f['transfer_bytes']:,} bytes; "
          f"runs (performance, LCP ms): {runs}")
    for o in f["opportunities"]:
        print(f"  opportunity: {o['title']}: {o['ms']} ms, {o['bytes'] / 1024:.0f} KiB")
        for i in o["items"]:
            print(f"      {i['url']}  {i['ms'] or 0:.0f} ms  {(i['bytes'] or 0) / 1024:.1f} KiB")
    for a in f["failing"]:
        print(f"  below 0.9: {a['title']} ({a['score']})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", action="append", default=[], metavar="REF",
                    help="also measure this commit's server and PWA (a git worktree); repeatable")
    ap.add_argument("--runs", type=int, default=3, help="Lighthouse runs per version (the median is shown)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", type=Path, help="keep the Lighthouse reports (JSON) in this folder")
    args = ap.parse_args(argv)
    if not require_chromium():
        return 2
    if not LIGHTHOUSE.exists():
        print("needs Lighthouse: (cd benchmarks && npm ci)", file=sys.stderr)
        return 2
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        for ref in [*args.before, None]:
            label = ref or "this checkout"
            with demo_server(tmp, ref) as base:
                out[label] = measure(base, args.runs, keep, (ref or "work").replace("/", "_"))
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for label, f in out.items():
        show(label, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
