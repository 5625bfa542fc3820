"""The office page comparing how each school uses codes (``/office/register/codes``) and its CSV;
the figures are in ``code_usage.py``, the charts in ``code_usage_svg.py``."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..office.exports import csv_response, csv_text
from ..office.pages import app_state, page, render
from ..util import today
from . import code_usage, code_usage_svg, queries, years

FLAG_WORDS = {"high": "Higher than expected", "low": "Lower than expected", None: "Within the limits"}
CSV_HEADER = ["year", "code", "rate_of", "school_id", "school", "group", "sessions", "count", "rate_per_1000",
              "authority_rate_per_1000", "lower_limit_per_1000", "upper_limit_per_1000", "against_authority",
              "group_rate_per_1000", "schools_in_group", "against_group"]


def _load(st: Any, year: int | None) -> dict[str, Any]:
    with st.db.read() as txn:
        chosen = year if year is not None else queries.default_year(txn, today())
        schools, comparisons = code_usage.comparisons(txn, chosen)
        return {"year": chosen, "years": sorted(set(queries.years_of(txn)) | {chosen}, reverse=True),
                "schools": schools, "comparisons": comparisons}


def _year(request: Request) -> int | None:
    return years.parse(request.query_params.get("year", "") or "")


@page
async def codes_page(request: Request) -> Response:
    data = await run_in_threadpool(_load, app_state(request), _year(request))
    charts = {c["code"]: code_usage_svg.funnel(c, f"funnel-{c['code']}") for c in data["comparisons"]}
    groups = sorted({s.group for s in data["schools"]})
    return render(request, "code_usage.html", {
        "title": "Codes used consistently", "charts": charts, "flag_words": FLAG_WORDS, "groups": groups,
        "year_label": years.label, "z": code_usage.Z, "size_bands": code_usage.SIZE_BANDS, **data},
        active="register")


def _r(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


@page
async def codes_csv(request: Request) -> Response:
    data = await run_in_threadpool(_load, app_state(request), _year(request))
    rows = [[years.label(data["year"]), c["code"], c["per"], r["school_id"], r["name"], r["group"], r["sessions"],
             r["count"], _r(r["rate"]), _r(c["authority_rate"]), _r(r["low"]), _r(r["high"]), r["flag"] or "within",
             _r(r["group_rate"]), r["group_schools"], (r["group_flag"] or "within") if r["group_schools"] > 1 else ""]
            for c in data["comparisons"] for r in c["rows"]]
    return csv_response(f"code-usage-{data['year']}.csv", csv_text(CSV_HEADER, rows))


routes = [
    Route("/office/register/codes", codes_page, methods=["GET"]),
    Route("/office/register/codes.csv", codes_csv, methods=["GET"]),
]
