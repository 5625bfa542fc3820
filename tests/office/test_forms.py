"""Malformed or oversized forms get a page that says so, never a server error."""
from __future__ import annotations


def test_a_form_with_too_many_fields_is_refused_in_words(office_page):
    page = office_page()
    data = {f"field{i}": "x" for i in range(1500)}
    r = page.post("/office/cases", data)
    assert r.status_code == 400
    assert "could not be read" in r.text


def test_a_broken_multipart_upload_is_refused_in_words(office_page):
    page = office_page()
    r = page.client.post("/office/marks", content=b"--xyz\r\nnot a part\r\n",
                         headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert 400 <= r.status_code < 500
