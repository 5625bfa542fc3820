"""The marks import's record: its report, its rejected rows, and a pupil's stored marks."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..storage import Database, SqliteTxn
from .codes import SESSIONS


@dataclass
class ImportReport:
    import_id: str = ""
    rows_read: int = 0
    stored: int = 0
    unchanged: int = 0
    superseded: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0
    superseded_rows: list[dict[str, Any]] = field(default_factory=list)
    pupils_updated: int = 0
    extracted_at: str = ""
    status: str = "running"

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "rows_read": self.rows_read, "stored": self.stored,
                "unchanged": self.unchanged, "superseded": self.superseded,
                "superseded_rows": self.superseded_rows, "rejected": self.rejected,
                "rejected_count": self.rejected_count, "pupils_updated": self.pupils_updated,
                "extracted_at": self.extracted_at, "status": self.status}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImportReport:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def rejected_rows(db: Database, import_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    with db.read() as txn:
        sql = ("SELECT r.line, r.reason, r.raw FROM import_rejects r JOIN imports i ON i.no = r.import_no "
               "WHERE i.id = ? ORDER BY r.line")
        params: list[Any] = [import_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [{"line": n, "reason": reason, "row": orjson.loads(raw) if raw else {}}
                for n, reason, raw in txn.execute(sql, params)]


def pupil_marks(txn: SqliteTxn, pupil_id: str, first: dt.date | None = None,
                last: dt.date | None = None) -> list[tuple[dt.date, str, str]]:
    """(date, AM|PM, code) of one pupil, in order, optionally between two dates."""
    lo = first.toordinal() if first else 0
    hi = last.toordinal() if last else 10**7
    return [(dt.date.fromordinal(d), SESSIONS[s], c) for d, s, c in txn.execute(
        "SELECT m.day, m.session, m.code FROM register_marks m JOIN register_pupils p ON p.pk = m.pupil_pk "
        "WHERE p.pupil_id = ? AND m.day BETWEEN ? AND ? ORDER BY m.day, m.session", (pupil_id, lo, hi))]

