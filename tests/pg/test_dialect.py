"""server/pg/dialect.py: the server's SQLite spellings in PostgreSQL's, each checked twice: the
text it becomes, and what PostgreSQL answers when it runs it (against SQLite's answer to the
original, where both can run it)."""
from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import pytest

from server.pg.dialect import Untranslatable, translate


def test_placeholders_and_percent_signs():
    assert translate("SELECT '100%' AS p, ? AS a WHERE x LIKE '%a?%'") == \
        "SELECT '100%%' AS p, %s AS a WHERE x ILIKE '%%a?%%'"
    with pytest.raises(Untranslatable, match="numbered placeholders"):
        translate("SELECT ?1")


def test_insert_or_ignore_and_replace():
    assert translate("INSERT OR IGNORE INTO check_in_acks (check_in_id, note) VALUES (?, ?)") == \
        "INSERT INTO check_in_acks (check_in_id, note) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    assert translate("INSERT OR REPLACE INTO reviews (entity_id, type, state) VALUES (?, ?, ?)") == (
        "INSERT INTO reviews (entity_id, type, state) VALUES (%s, %s, %s) "
        "ON CONFLICT (entity_id) DO UPDATE SET type = EXCLUDED.type, state = EXCLUDED.state")
    with pytest.raises(Untranslatable, match="name the columns"):
        translate("INSERT OR REPLACE INTO reviews VALUES (?, ?)")


def test_json_reads_as_text_or_as_the_number_the_schema_declares():
    assert translate("SELECT json_extract(data, '$.outcome') FROM visits") == \
        "SELECT (CAST(data AS jsonb) #>> '{outcome}') FROM visits"
    assert translate("SELECT json_extract(v.data, '$.child_seen') FROM visits v") == \
        "SELECT json_number(CAST(v.data AS jsonb) #> '{child_seen}') FROM visits v"
    assert "json_number" in translate("SELECT 1 FROM t WHERE json_extract(flags, '$.unknown') = 1")
    assert "json_number" in translate("SELECT coalesce(json_extract(d, '$.unknown'), 0) FROM t")
    assert "json_number" not in translate("SELECT coalesce(json_extract(d, '$.unknown'), '') FROM t")


def test_lists_from_json_match_integer_columns_as_integers():
    assert translate("SELECT 1 FROM figures WHERE pupil_pk IN (SELECT value FROM json_each(?))") == (
        "SELECT 1 FROM figures WHERE pupil_pk IN "
        "(SELECT CAST(value AS INTEGER) FROM jsonb_array_elements_text(CAST(%s AS jsonb)))")
    assert "CAST(value" not in translate("SELECT 1 FROM pupils WHERE id IN (SELECT value FROM json_each(?))")


def test_sqlite_only_things_are_refused_by_name():
    for sql, name in (("SELECT group_concat(x) FROM t", "group_concat"), ("SELECT julianday('now')", "julianday"),
                      ("PRAGMA journal_mode", "PRAGMA"), ("SELECT json_extract(d, '$[0]') FROM t", "json path")):
        with pytest.raises(Untranslatable, match=name):
            translate(sql)


def test_nulls_sort_where_sqlite_sorts_them_and_never_null_columns_keep_their_index_order():
    assert translate("SELECT 1 FROM cases c ORDER BY last_visit DESC, c.id") == \
        "SELECT 1 FROM cases c ORDER BY last_visit DESC NULLS LAST, c.id"
    paged = "SELECT 1 FROM figures f JOIN register_pupils rp ON rp.pk = f.pupil_pk ORDER BY f.pct, f.pupil_pk LIMIT ?"
    assert translate(paged).endswith("ORDER BY f.pct, f.pupil_pk LIMIT %s")  # figures.pct is NOT NULL
    assert translate("SELECT pct FROM targeting_decisions ORDER BY pct") == \
        "SELECT pct FROM targeting_decisions ORDER BY pct NULLS FIRST"  # here it may be NULL


SAME_ANSWER = [
    ("SELECT max(2, 5), min(2, 5), iif(1 > 0, 'y', 'n'), ifnull(NULL, 'z'), instr('abcd', 'c')", ()),
    ("SELECT 'Ab' LIKE 'ab', 'x' IS 'x', 'x' IS NOT 'y', NULL IS NOT NULL", ()),
    ("SELECT json_extract(?, '$.a.b'), json_extract(?, '$.lat'), json_extract(?, '$.child_seen')",
     ('{"a": {"b": "deep"}}', '{"lat": 53.5}', '{"child_seen": true}')),
    ("SELECT sum(json_extract(j, '$.n')), count(*) FROM (SELECT ? AS j UNION ALL SELECT ?) AS q",
     ('{"n": 2}', '{"n": 3}')),
    ("SELECT json_extract(json_set(?, '$.k', json(?)), '$.k.x')", ('{"a": 1}', '{"x": "set"}')),
    ("SELECT value FROM json_each(?) ORDER BY value", ('["b", "a"]',)),
    ("SELECT json_group_array(DISTINCT v) FROM (SELECT 'a' AS v UNION ALL SELECT 'a') AS q", ()),
    ("SELECT CAST(? AS REAL) / 4", (3,)),
    ("SELECT v FROM (SELECT 'b' AS v UNION ALL SELECT NULL UNION ALL SELECT 'a') AS q ORDER BY v", ()),
    ("SELECT v FROM (SELECT 'b' AS v UNION ALL SELECT NULL UNION ALL SELECT 'a') AS q ORDER BY v DESC", ()),
]


@pytest.mark.parametrize(("sql", "params"), SAME_ANSWER)
def test_postgresql_answers_what_sqlite_answers(pg_url: str, sql: str, params: tuple[Any, ...]):
    expected = sqlite3.connect(":memory:").execute(sql, params).fetchall()
    with psycopg.connect(pg_url) as conn:  # json_number comes with the schema (pg_url is migrated)
        got = conn.execute(translate(sql), params).fetchall()
    normal = [tuple(int(v) if isinstance(v, bool) else float(v) if hasattr(v, "as_integer_ratio") and not
                    isinstance(v, int) else v for v in row) for row in got]
    assert normal == [tuple(float(v) if isinstance(v, float) else v for v in row) for row in expected], \
        translate(sql)
