"""Letters to parents (server/casework/letters.py): printed from the office as PDF with WeasyPrint,
kept with the case, audited, from templates the authority edits. The PDF's text is read back with pypdf."""
from __future__ import annotations

import io
import re

import pytest

from .conftest import text_of
from .test_legal import DAD, MUM, WEEK1, admin, legal_case, notice_ids, request  # noqa: F401  (fixtures)

pypdf = pytest.importorskip("pypdf")


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def letters_of(page, case_id: str) -> list[str]:
    return re.findall(r'href="(/office/legal/letters/[0-9a-f-]{36}\.pdf)"', page.get(f"/office/cases/{case_id}/legal").text)


def test_penalty_notice_letter_has_names_amounts_dates_and_the_sessions(legal_case, admin, app_state, world):
    page, ids = legal_case
    case = ids["case"]
    page.post(f"/office/cases/{case}/legal/nti", {"issued_on": "2026-10-12", "p1_name": MUM[0], "p1_address": MUM[1]})
    request(page, case, MUM, WEEK1)
    pn = notice_ids(page, case)[-1]
    admin.post(f"/office/legal/notices/{pn}/review", {"decision": "approved"})
    admin.post(f"/office/legal/notices/{pn}/issue", {"issued_on": "2026-11-16", "method": "post"})
    r = page.post(f"/office/legal/notices/{pn}/letter")
    assert r.status_code == 303 and r.headers["location"].endswith("done=letter")
    [url] = letters_of(page, case)
    pdf = page.get(url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Jo Stone" in text and "12 Shady Lane, Hexthorpe" in text and "Ava Stone" in text
    assert "Hexthorpe Primary" in text and "The Local Authority" in text
    assert "treated as received on 18 November 2026" in text
    assert "Pay £80 by 9 December 2026, or £160 by 16 December 2026" in text
    assert "10 sessions between 7 September 2026 and 11 September 2026" in text
    for day in WEEK1:  # the evidence table: each session, AM and PM, code N
        assert f"{day} AM N" in text and f"{day} PM N" in text
    # the letter is kept: the same bytes again, and its reading is audited
    assert page.get(url).content == pdf.content
    office, _officer, _ = world
    letter_id = url.rsplit("/", 1)[1].removesuffix(".pdf")
    rows = app_state.db.query("SELECT action FROM audit WHERE entity_ids LIKE ?", (f"%{letter_id}%",))
    assert {r["action"] for r in rows} == {"legal_letter", "office_view"}


def test_notice_to_improve_letter_per_parent_from_an_edited_template(legal_case):
    page, ids = legal_case
    case = ids["case"]
    bad = page.post("/office/legal/templates/notice_to_improve", {"body": "Dear {parent_nam}, {oops"})
    text = text_of(bad.text)
    assert bad.status_code == 422 and "Unknown fields: {parent_nam}" in text and "A brace that is not part" in text
    assert "The letter must say {ends_on}, {parent_name}, {pupil_name}" in text
    body = ("Dear {parent_name}\n\n{pupil_name} has attended {attendance_pct} of sessions.\n\n"
            "Improve by {ends_on} ({weeks} school weeks).\n\nSupport so far:\n{support_offered}")
    assert page.post("/office/legal/templates/notice_to_improve", {"body": body}).status_code == 303
    assert "version 1" in page.get("/office/legal/templates").text
    page.post(f"/office/cases/{case}/legal/nti", {"issued_on": "2026-10-12", "p1_name": MUM[0], "p1_address": MUM[1],
                                                  "p2_name": DAD[0], "p2_address": DAD[1]})
    for n in notice_ids(page, case):
        assert page.post(f"/office/legal/notices/{n}/letter").status_code == 303
    texts = [pdf_text(page.get(u).content) for u in letters_of(page, case)]
    assert len(texts) == 2  # one letter to each parent
    assert any("Dear Jo Stone" in t and "4 Mill Road" not in t for t in texts)
    assert any("Dear Sam Stone" in t and "4 Mill Road, Balby" in t for t in texts)
    for t in texts:
        assert "Ava Stone has attended 0.0% of sessions" in t
        assert "Improve by 13 November 2026 (4 school weeks)" in t and "Home visit" in t
