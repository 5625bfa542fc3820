"""A small authority for the register tests: schools and pupils written through the sync engine."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from server.state import AppState
from sync import ADMIN, Actor, push

ADMIN_ACTOR = Actor("00000000-0000-4000-8000-000000000001", ADMIN, None)


def upn(n: int) -> str:
    return f"A{n:012d}"


def put(st: AppState, type_: str, fields: dict[str, Any], id_: str | None = None) -> str:
    id_ = id_ or str(uuid.uuid4())
    out = push(st.db, ADMIN_ACTOR, [{"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put",
                                     "fields": fields, "base_version": None, "hlc": st.clock.send()}], st.clock)
    assert out.results[0].status in ("applied", "merged"), out.results[0].errors
    return id_


def school(st: AppState, name: str = "Moor Lane Primary") -> str:
    return put(st, "school", {"name": name})


def pupil(st: AppState, school_id: str, n: int, **fields: Any) -> str:
    return put(st, "pupil", {"upn": upn(n), "first_name": f"Pupil{n}", "last_name": "Test",
                             "school_id": school_id, **fields})


def days(first: dt.date, weeks: int) -> list[dt.date]:
    """Monday to Friday of ``weeks`` weeks from the Monday ``first``."""
    return [first + dt.timedelta(weeks=w, days=d) for w in range(weeks) for d in range(5)]


def rows_for(n: int, dates: list[dt.date], code: str | list[str]) -> list[tuple[str, str, str, str]]:
    codes = [code] * (2 * len(dates)) if isinstance(code, str) else code
    return [(upn(n), d.isoformat(), s, codes[2 * i + j]) for i, d in enumerate(dates)
            for j, s in enumerate(("AM", "PM"))]


def csv_text(rows: list[tuple[str, str, str, str]]) -> str:
    return "upn,date,session,code\n" + "".join(",".join(r) + "\n" for r in rows)


def record(st: AppState, pupil_id: str) -> dict[str, Any]:
    with st.db.read() as txn:
        return txn.get("pupil", [pupil_id])[pupil_id].fields


def figures(st: AppState, pupil_id: str, year: int) -> dict[str, Any] | None:
    from server.register import queries

    with st.db.read() as txn:
        return queries.pupil_figures(txn, pupil_id, year)
