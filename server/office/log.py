"""The visit log as data: every synced visit and conversation, filtered, safeguarding first.

One SQL query unions visits and conversations with the columns the filters
need; the GPS filter is applied in Python (geodesic distance), then the page
is cut. "When" is a visit's ``started_at`` (else ``planned_for``, else when it
reached the server) and a conversation's visit's ``started_at`` (else when it
reached the server).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlencode

import orjson

from ..storage import SqliteTxn
from . import geo, labels

PAGE_SIZE = 25

_UNION = """
SELECT 'visit' AS kind, v.id, v.data, v.flags, v.version, v.created_at, v.created_by,
  coalesce(json_extract(v.data, '$.started_at'), json_extract(v.data, '$.planned_for'), v.created_at) AS at,
  v.officer_id AS officer_id, v.case_id AS case_id,
  json_extract(v.data, '$.outcome') AS outcome, json_extract(v.data, '$.child_seen') AS child_seen,
  coalesce(json_extract(v.data, '$.safeguarding_concern'), 0) AS concern,
  coalesce(json_extract(v.flags, '$.out_of_scope'), 0) AS out_of_scope,
  json_extract(v.data, '$.lat') AS lat, json_extract(v.data, '$.lon') AS lon,
  json_extract(h.data, '$.lat') AS home_lat, json_extract(h.data, '$.lon') AS home_lon,
  c.pupil_id AS pupil_id
FROM visits v LEFT JOIN cases c ON c.id = v.case_id
LEFT JOIN households h ON h.id = json_extract(v.data, '$.household_id')
WHERE v.deleted = 0
UNION ALL
SELECT 'conversation', x.id, x.data, x.flags, x.version, x.created_at, x.created_by,
  coalesce(json_extract(pv.data, '$.started_at'), x.created_at),
  coalesce(pv.officer_id, CASE WHEN u.role = 'officer' THEN x.created_by END, c.assigned_officer_id),
  x.case_id, NULL, NULL, 0, coalesce(json_extract(x.flags, '$.out_of_scope'), 0),
  NULL, NULL, NULL, NULL, c.pupil_id
FROM conversations x LEFT JOIN visits pv ON pv.id = json_extract(x.data, '$.visit_id')
LEFT JOIN users u ON u.id = x.created_by LEFT JOIN cases c ON c.id = x.case_id
WHERE x.deleted = 0
"""

# when it happened, a bare date as its midday (a WHERE names the expression: an alias is SQLite's)
_AT_KEY = "CASE WHEN length(l.at) = 10 THEN l.at || 'T12:00:00Z' ELSE l.at END"

_SELECT = f"""
SELECT l.*, {_AT_KEY} AS at_key,
  r.state AS review_state, r.user_id AS review_by, r.at AS review_at, r.comment AS review_comment,
  json_extract(p.data, '$.first_name') AS first_name, json_extract(p.data, '$.last_name') AS last_name,
  json_extract(p.data, '$.band') AS band, json_extract(p.data, '$.attendance_pct') AS attendance_pct
FROM ({_UNION}) l
LEFT JOIN reviews r ON r.entity_id = l.id
LEFT JOIN pupils p ON p.id = l.pupil_id
"""

KINDS = ("visit", "conversation")


@dataclass(frozen=True)
class LogFilter:
    kind: str = ""
    officer: str = ""
    date_from: str = ""
    date_to: str = ""
    outcome: str = ""
    review: str = ""
    child_not_seen: bool = False
    concern: bool = False
    gps_far: bool = False
    out_of_scope: bool = False

    @classmethod
    def from_query(cls, params: Any) -> tuple[LogFilter, list[str]]:
        """A filter from query parameters; unusable values are dropped and named in the list."""
        problems: list[str] = []

        def choice(name: str, allowed: Any) -> str:
            value = params.get(name, "")
            if value and value not in allowed:
                problems.append(f"{name} “{value[:40]}” is not one of the choices")
                return ""
            return value

        def day(name: str, label: str) -> str:
            value = params.get(name, "")
            if not value:
                return ""
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"{label} must be a date like 2026-11-04")
                return ""
            return value

        def flag(name: str) -> bool:
            return params.get(name, "") in ("1", "on", "true")

        officer = params.get("officer", "")
        return cls(kind=choice("kind", KINDS), officer=officer if len(officer) <= 64 else "",
                   date_from=day("from", "From"), date_to=day("to", "To"),
                   outcome=choice("outcome", labels.OUTCOMES), review=choice("review", labels.REVIEW_STATES),
                   child_not_seen=flag("child_not_seen"), concern=flag("concern"), gps_far=flag("gps_far"),
                   out_of_scope=flag("out_of_scope")), problems

    def params(self) -> dict[str, str]:
        names = {"date_from": "from", "date_to": "to"}
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value:
                out[names.get(f.name, f.name)] = "1" if value is True else value
        return out

    def query(self, **extra: Any) -> str:
        return urlencode({**self.params(), **{k: v for k, v in extra.items() if v not in (None, "")}})

    def only(self, **changes: Any) -> LogFilter:
        return replace(self, **changes)

    @property
    def active(self) -> bool:
        return bool(self.params())


def _uk_day_start(day: str, plus_days: int = 0) -> str:
    local = dt.datetime.combine(dt.date.fromisoformat(day) + dt.timedelta(days=plus_days), dt.time(),
                                tzinfo=labels.UK)
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _where(f: LogFilter) -> tuple[str, list[Any]]:
    clauses, params = ["1 = 1"], []
    if f.kind:
        clauses.append("l.kind = ?")
        params.append(f.kind)
    if f.officer:
        clauses.append("l.officer_id = ?")
        params.append(f.officer)
    if f.date_from:
        clauses.append(f"{_AT_KEY} >= ?")
        params.append(_uk_day_start(f.date_from))
    if f.date_to:
        clauses.append(f"{_AT_KEY} < ?")
        params.append(_uk_day_start(f.date_to, 1))
    if f.outcome:
        clauses.append("l.outcome = ?")
        params.append(f.outcome)
    if f.review == "new":
        clauses.append("(r.state IS NULL OR r.state = 'new')")
    elif f.review:
        clauses.append("r.state = ?")
        params.append(f.review)
    if f.child_not_seen:
        clauses.append("l.child_seen = 0")
    if f.concern:
        clauses.append("l.concern = 1")
    if f.out_of_scope:
        clauses.append("l.out_of_scope = 1")
    if f.gps_far:
        clauses.append("l.lat IS NOT NULL AND l.home_lat IS NOT NULL")
    return " AND ".join(clauses), params


@dataclass
class LogRow:
    kind: str
    id: str
    at: str
    data: dict[str, Any]
    flags: dict[str, Any]
    version: int
    created_at: str | None
    created_by: str | None
    officer_id: str | None
    case_id: str | None
    pupil_id: str | None
    pupil_name: str
    band: str | None
    attendance_pct: float | None
    concern: bool
    out_of_scope: bool
    review_state: str
    review_by: str | None
    review_at: str | None
    review_comment: str
    gps: geo.GpsCheck | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def child_not_seen(self) -> bool:
        return self.kind == "visit" and self.data.get("child_seen") is False

    @property
    def severe_not_seen(self) -> bool:
        """A severely absent child whose visit says the child was not seen: stands out."""
        return self.child_not_seen and self.band == "severe"

    @property
    def summary(self) -> str:
        text = self.data.get("notes") if self.kind == "visit" else self.data.get("reason_given")
        text = text or ""
        return text if len(text) <= 160 else text[:157].rstrip() + "…"


def _row(r: dict[str, Any]) -> LogRow:
    name = " ".join(x for x in (r["first_name"], r["last_name"]) if x) or "Unknown pupil"
    return LogRow(kind=r["kind"], id=r["id"], at=r["at"], data=orjson.loads(r["data"]),
                  flags=orjson.loads(r["flags"]), version=r["version"], created_at=r["created_at"],
                  created_by=r["created_by"], officer_id=r["officer_id"], case_id=r["case_id"],
                  pupil_id=r["pupil_id"], pupil_name=name, band=r["band"], attendance_pct=r["attendance_pct"],
                  concern=bool(r["concern"]), out_of_scope=bool(r["out_of_scope"]),
                  review_state=r["review_state"] or "new", review_by=r["review_by"], review_at=r["review_at"],
                  review_comment=r["review_comment"] or "")


@dataclass
class LogPage:
    rows: list[LogRow]
    total: int
    page: int
    pages: int


def search(txn: SqliteTxn, f: LogFilter, gps_limit_m: float, page: int | None = 1,
           page_size: int = PAGE_SIZE) -> LogPage:
    """Matching records, safeguarding concerns first, then newest first; ``page=None`` for all."""
    where, params = _where(f)
    raw = txn.rows(f"{_SELECT} WHERE {where} ORDER BY l.concern DESC, at_key DESC, l.id", params)
    if f.gps_far:
        raw = [r for r in raw if geo.is_far(r["lat"], r["lon"], r["home_lat"], r["home_lon"], gps_limit_m)]
    total = len(raw)
    pages = max(1, -(-total // page_size))
    if page is not None:
        page = min(max(page, 1), pages)
        raw = raw[(page - 1) * page_size: page * page_size]
    rows = [_row(r) for r in raw]
    for row, r in zip(rows, raw):
        if row.kind == "visit":
            row.gps = geo.check(r["lat"], r["lon"], r["home_lat"], r["home_lon"], gps_limit_m)
    return LogPage(rows, total, page or 1, pages)


def one(txn: SqliteTxn, kind: str, id_: str, gps_limit_m: float) -> LogRow | None:
    raw = txn.rows(f"{_SELECT} WHERE l.kind = ? AND l.id = ?", (kind, id_))
    if not raw:
        return None
    row = _row(raw[0])
    if kind == "visit":
        r = raw[0]
        row.gps = geo.check(r["lat"], r["lon"], r["home_lat"], r["home_lon"], gps_limit_m)
    return row
