"""``doorstep export subject``: everything about a pupil and their household in one archive,
the export audited, an unknown UPN refused."""
from __future__ import annotations

import orjson

from server import audit
from server.cli import main

from .subject_world import STRANGER_UPN, UPN, build, check_archive, read_zip


def test_the_archive_holds_everything_about_the_pupil_and_household_and_nothing_else(
        world, app_state, db_path, tmp_path, capsys):
    ids = build(world, app_state)
    out = tmp_path / "sar.zip"
    assert main(["--db", db_path, "export", "subject", "--pupil", UPN.lower(), "--out", str(out)]) == 0
    assert f"written to {out}" in capsys.readouterr().out
    assert out.stat().st_mode & 0o077 == 0  # the owner only: safeguarding data
    check_archive(read_zip(out.read_bytes()), ids)


def test_the_export_is_audited_by_the_pupil_household_and_case(world, app_state, db_path, tmp_path):
    ids = build(world, app_state)
    assert main(["--db", db_path, "export", "subject", "--pupil", UPN, "--out", str(tmp_path / "a.zip")]) == 0
    for key in ("pupil", "household", "case"):
        rows = [r for r in audit.for_entity(app_state.db, ids[key], None, 50) if r["action"] == "subject_export"]
        assert len(rows) == 1, key
        assert rows[0]["user_id"] == "system" and rows[0]["detail"]["upn"] == UPN
        assert rows[0]["detail"]["via"] == "cli" and rows[0]["detail"]["files"]["visits"] == 1
    # a second export lists the first in its audit file
    assert main(["--db", db_path, "export", "subject", "--pupil", UPN, "--out", str(tmp_path / "b.zip")]) == 0
    files = read_zip((tmp_path / "b.zip").read_bytes())
    assert [a["action"] for a in files["audit.json"]].count("subject_export") == 1


def test_a_stranger_exported_alone_does_not_bring_the_pupil(world, app_state, db_path, tmp_path):
    ids = build(world, app_state)
    out = tmp_path / "s.zip"
    assert main(["--db", db_path, "export", "subject", "--pupil", STRANGER_UPN, "--out", str(out)]) == 0
    files = read_zip(out.read_bytes())
    assert {r["id"] for r in files["cases.json"]} == {ids["s_case"]}
    assert ids["pupil"] not in orjson.dumps({k: v for k, v in files.items() if k != "README.txt"}).decode()


def test_an_unknown_or_malformed_upn_is_refused_and_writes_nothing(world, db_path, tmp_path, capsys):
    for upn, says in (("N000000000000", "no pupil has the UPN N000000000000"), ("12'; drop", "is not a UPN")):
        out = tmp_path / "x.zip"
        assert main(["--db", db_path, "export", "subject", "--pupil", upn, "--out", str(out)]) == 1
        assert says in capsys.readouterr().err
        assert not out.exists()
    assert main(["--db", db_path, "export", "subject", "--pupil", UPN, "--out",
                 str(tmp_path / "missing" / "x.zip")]) == 1
