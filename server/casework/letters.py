"""Letters to parents: the authority's templates (every version kept), checked when edited, and
each letter printed to PDF with WeasyPrint and kept with the case (docs/casework.md).

A template is plain text with ``{placeholder}`` fields; a blank line starts a paragraph. The
letter's layout (the authority's name, the parent's address, the date, the evidence table of
sessions for a penalty notice) is the same for every authority and not part of the template.
"""
from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import jinja2
import orjson

from .. import audit
from ..identity.accounts import User
from ..office.people import entity, pupil_name
from ..state import AppState
from ..storage import SqliteTxn
from ..util import now_iso
from . import legal

MAX_TEMPLATE = 20_000
FIELD_RE = re.compile(r"\{([a-z_]*)\}")
COMMON = {"parent_name", "pupil_name", "date_of_birth", "school", "authority", "letter_date"}
FIELDS = {
    legal.NTI: COMMON | {"issued_on", "weeks", "ends_on", "attendance_pct", "possible_sessions",
                         "attended_sessions", "unauthorised_sessions", "support_offered"},
    legal.PN: COMMON | {"issued_on", "received_on", "first_amount", "pay_first_by", "full_amount", "pay_by",
                        "sessions_count", "sessions_from", "sessions_to", "number"},
}
REQUIRED = {legal.NTI: {"parent_name", "pupil_name", "ends_on"},
            legal.PN: {"parent_name", "pupil_name", "full_amount", "pay_by"}}
DEFAULTS = {
    legal.NTI: """Dear {parent_name}

Notice to Improve: {pupil_name}'s attendance at {school}

This notice is to {parent_name} as a parent of {pupil_name} (born {date_of_birth}). Since September {pupil_name} has attended {attended_sessions} of {possible_sessions} possible sessions ({attendance_pct}), with {unauthorised_sessions} unauthorised absences.

The support offered so far:
{support_offered}

{pupil_name}'s attendance must improve over the next {weeks} school weeks, until {ends_on}. If it does not, {authority} may issue you with a penalty notice without further warning.

Please contact us if anything is getting in the way: we want to help.""",
    legal.PN: """Dear {parent_name}

Penalty notice: {pupil_name}, {school}

{authority} issues you this penalty notice under section 444A of the Education Act 1996 for the unauthorised absence of {pupil_name} (born {date_of_birth}): {sessions_count} sessions between {sessions_from} and {sessions_to}, listed below.

This notice is treated as received on {received_on}. Pay {first_amount} by {pay_first_by}, or {full_amount} by {pay_by}. Paying discharges your liability to conviction for this absence. If it is not paid by {pay_by}, {authority} will consider prosecuting you under section 444(1) of the Education Act 1996.""",
}


def check_template(kind: str, body: str) -> list[str]:
    """Why this template cannot be used; empty when it can."""
    errors = []
    if not body.strip():
        return ["The template is empty."]
    if len(body) > MAX_TEMPLATE:
        errors.append(f"A template is at most {MAX_TEMPLATE:,} characters.")
    names = set(FIELD_RE.findall(body))
    unknown = sorted(names - FIELDS[kind])
    if unknown:
        errors.append("Unknown fields: " + ", ".join("{" + u + "}" for u in unknown)
                      + ". The fields are " + ", ".join("{" + f + "}" for f in sorted(FIELDS[kind])) + ".")
    rest = FIELD_RE.sub("", body)
    if "{" in rest or "}" in rest:
        errors.append("A brace that is not part of a {field}: write fields as {name}.")
    missing = sorted(REQUIRED[kind] - names)
    if missing:
        errors.append("The letter must say " + ", ".join("{" + m + "}" for m in missing) + ".")
    return errors


def template(txn: SqliteTxn, kind: str) -> tuple[int, str]:
    """(version, body) of the kind's current template; version 0 is the built-in one."""
    rows = txn.rows("SELECT version, body FROM letter_templates WHERE kind = ? ORDER BY version DESC LIMIT 1", (kind,))
    return (rows[0]["version"], rows[0]["body"]) if rows else (0, DEFAULTS[kind])


def template_body(txn: SqliteTxn, kind: str, version: int) -> str:
    rows = txn.rows("SELECT body FROM letter_templates WHERE kind = ? AND version = ?", (kind, version))
    return rows[0]["body"] if rows else DEFAULTS[kind]


def save_template(st: AppState, user: User, kind: str, body: str) -> int:
    """A new version (earlier ones stay: a kept letter names the version it used)."""
    body = body.replace("\r\n", "\n")
    with st.db.write() as txn:
        version = template(txn, kind)[0] + 1
        txn.execute("INSERT INTO letter_templates (kind, version, body, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                    (kind, version, body, now_iso(), user.id))
        audit.record(txn, user.id, None, "letter_template", [], {"kind": kind, "version": version})
    return version


def _money(v: Any) -> str:
    return "—" if v is None else f"£{v}"


def _day(v: Any) -> str:
    import datetime as dt

    return dt.date.fromisoformat(v).strftime("%-d %B %Y") if v else "—"


def fields(txn: SqliteTxn, st: AppState, n: dict[str, Any], letter_date: str) -> dict[str, str]:
    pupil = entity(txn, "pupils", n["pupil_id"]) or {}
    school = entity(txn, "schools", pupil.get("school_id")) or {}
    out = {"parent_name": n["parent_name"], "pupil_name": pupil_name(pupil), "school": school.get("name", ""),
           "date_of_birth": _day(pupil.get("date_of_birth")), "authority": st.settings.legal.authority_name,
           "letter_date": _day(letter_date), "issued_on": _day(n.get("issued_on"))}
    if n["kind"] == legal.NTI:
        a = n["attendance"]
        out |= {"weeks": str(n["weeks"]), "ends_on": _day(n["ends_on"]),
                "attendance_pct": "—" if a["pct"] is None else f"{a['pct']:.1f}%",
                "possible_sessions": str(a["possible"]), "attended_sessions": str(a["attended"]),
                "unauthorised_sessions": str(a["unauthorised"]),
                "support_offered": "\n".join("• " + s for s in n["support"]) or "• none recorded"}
    else:
        sessions = legal.sessions_of(txn, n["id"])
        out |= {"received_on": _day(n.get("received_on")), "first_amount": _money(n.get("first_amount")),
                "pay_first_by": _day(n.get("pay_first_by")), "full_amount": _money(n.get("full_amount")),
                "pay_by": _day(n.get("pay_by")), "sessions_count": str(len(sessions)),
                "sessions_from": _day(sessions[0]["date"]) if sessions else "—",
                "sessions_to": _day(sessions[-1]["date"]) if sessions else "—", "number": str(n.get("number") or 1)}
        if n.get("second"):  # a second notice has no £80 part: say so rather than print a dash
            out |= {"first_amount": out["full_amount"], "pay_first_by": out["pay_by"]}
    return out


_env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "office" / "templates"),
                          autoescape=True, undefined=jinja2.StrictUndefined)


def render_html(txn: SqliteTxn, st: AppState, n: dict[str, Any], version: int, letter_date: str) -> str:
    values = fields(txn, st, n, letter_date)
    body = FIELD_RE.sub(lambda m: values.get(m.group(1), m.group(0)), template_body(txn, n["kind"], version))
    paragraphs = [p.split("\n") for p in re.split(r"\n\s*\n", body.strip())]
    sessions = legal.sessions_of(txn, n["id"]) if n["kind"] == legal.PN else []
    return _env.get_template("casework_legal_letter.html").render(n=n, values=values, paragraphs=paragraphs, sessions=sessions,
                                                   kind_words=legal.KIND_WORDS[n["kind"]])


def make_letter(st: AppState, user: User, notice_id: str, letter_date: str) -> str:
    """Print the notice's letter with the current template and keep it with the case; its id."""
    from weasyprint import HTML  # imported on first use: it loads Pango

    with st.db.read() as txn:
        n = legal.notice(txn, notice_id)
        if n is None:
            raise LookupError(notice_id)
        version, _body = template(txn, n["kind"])
        html = render_html(txn, st, n, version, letter_date)
    pdf = HTML(string=html).write_pdf()
    letter_id = str(uuid.uuid4())
    with st.db.write() as txn:
        txn.execute("INSERT INTO letters (id, notice_id, case_id, kind, template_version, created_at, created_by, "
                    "sha256, pdf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (letter_id, n["id"], n["case_id"], n["kind"], version, now_iso(), user.id,
                     hashlib.sha256(pdf).hexdigest(), pdf))
        txn.execute("INSERT INTO legal_events (notice_id, at, user_id, action, detail) VALUES (?, ?, ?, ?, ?)",
                    (n["id"], now_iso(), user.id, "letter", orjson.dumps({"letter_id": letter_id}).decode()))
        audit.record(txn, user.id, None, "legal_letter", [n["pupil_id"], n["case_id"], n["id"], letter_id],
                     {"kind": n["kind"], "template_version": version})
    return letter_id


def letter_pdf(st: AppState, user: User, letter_id: str) -> tuple[bytes, str] | None:
    """A kept letter's PDF and file name; its reading is audited."""
    with st.db.read() as txn:
        rows = txn.rows("SELECT l.pdf, l.kind, l.case_id, l.notice_id, l.created_at, n.pupil_id FROM letters l "
                        "JOIN legal_notices n ON n.id = l.notice_id WHERE l.id = ?", (letter_id,))
    if not rows:
        return None
    r = rows[0]
    with st.db.write() as txn:
        audit.record(txn, user.id, None, "office_view", [r["pupil_id"], r["case_id"], r["notice_id"], letter_id],
                     {"page": "letter PDF"})
    return r["pdf"], f"{r['kind'].replace('_', '-')}-{r['created_at'][:10]}.pdf"
