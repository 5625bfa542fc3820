"""The server's SQL, as written for SQLite, in PostgreSQL's spelling (docs/postgresql.md, "One
SQL, two spellings").

The server's statements are written once, in the subset of SQL both databases share, plus a few
SQLite spellings that have one exact PostgreSQL counterpart. ``translate`` rewrites those, once
per distinct statement (cached), when the store is PostgreSQL; on SQLite nothing runs. What it
rewrites, and nothing else:

- ``?`` placeholders as ``%s`` (and a literal ``%`` as ``%%``, which psycopg would read as one);
- ``json_extract(x, '$.a.b')`` as ``(CAST(x AS jsonb) #>> '{a,b}')``, the value as text; but
  as a number (``json_number``, true as 1 and false as 0, as SQLite gives it) where the field is
  one the schema declares integer, number or boolean (``numeric_fields``), where it is compared
  with a number, summed, or given a number when missing (``coalesce(…, 0)``);
- ``json_each(x)`` (the elements of a JSON array) as ``jsonb_array_elements_text(…)``, whose
  column is ``value`` as in SQLite (cast to an integer when it is matched against a column
  that holds integers, ``integer_columns``);
- ``json_set(x, '$.k', v)``, ``json(x)``, ``json_type(x)``; ``max(a, b)``/``min(a, b)`` with two
  arguments as ``GREATEST``/``LEAST``; ``instr`` as ``strpos``; ``iif`` as ``CASE``;
  ``strftime(format, 'now'[, modifier])`` for the one format the server uses;
- ``INSERT OR IGNORE`` as ``ON CONFLICT DO NOTHING`` and ``INSERT OR REPLACE`` as an upsert on
  the table's primary key (``conflict_keys``);
- ``ORDER BY`` terms that may be NULL with ``NULLS FIRST`` (``NULLS LAST`` descending), where
  SQLite sorts NULL (``_nulls_as_sqlite``);
- ``LIKE`` as ``ILIKE`` (SQLite's LIKE ignores ASCII case); ``CAST(… AS REAL)`` as double
  precision; ``rowid`` as ``ctid`` (a row's address, for "these rows" and insertion order);
  ``PRAGMA table_info(t)`` as a query of the catalogue.

Anything else SQLite-only raises ``Untranslatable`` when the statement is first run, naming it,
rather than running with another meaning.
"""
from __future__ import annotations

import re
from functools import lru_cache


def conflict_keys(table: str) -> tuple[str, ...]:
    """The table's primary key, for INSERT OR REPLACE (from the schema the migrations make)."""
    from .schema_derived import derive

    return derive().keys.get(table, ())

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORMATS = {"%Y-%m-%dT%H:%M:%fZ": 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'}


class Untranslatable(ValueError):
    """A statement uses SQLite SQL with no PostgreSQL spelling here."""


def _scan_string(sql: str, i: int) -> int:
    """The index just past the quoted literal or identifier starting at ``i``."""
    quote = sql[i]
    j = i + 1
    while j < len(sql):
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    raise Untranslatable(f"unterminated {quote} in: {sql[:120]}")


def _outside_quotes(text: str, start: int = 0):  # type: ignore[no-untyped-def]
    """``(index, character, depth)`` of each character outside quoted literals and identifiers,
    depth being the parentheses open before it."""
    depth, j = 0, start
    while j < len(text):
        c = text[j]
        if c in "'\"":
            j = _scan_string(text, j)
            continue
        yield j, c, depth
        depth += (c == "(") - (c == ")")
        j += 1


def _close(sql: str, i: int) -> int:
    """The index of the parenthesis closing the one at ``i``."""
    for j, c, depth in _outside_quotes(sql, i):
        if c == ")" and depth == 1:
            return j
    raise Untranslatable(f"unbalanced parentheses in: {sql[:120]}")


def _split_args(body: str) -> list[str]:
    args, start = [], 0
    for j, c, depth in _outside_quotes(body):
        if c == "," and depth == 0:
            args.append(body[start:j].strip())
            start = j + 1
    args.append(body[start:].strip())
    return args


def _literal(arg: str) -> str | None:
    return arg[1:-1].replace("''", "'") if len(arg) >= 2 and arg[0] == arg[-1] == "'" else None


def _path(arg: str) -> str:
    """``'$.a.b'`` as PostgreSQL's path ``'{a,b}'``."""
    text = _literal(arg)
    if text is None or not text.startswith("$.") or not all(p.isidentifier() for p in text[2:].split(".")):
        raise Untranslatable(f"json path {arg}: only '$.name[.name…]' is translated")
    return "'{" + ",".join(text[2:].split(".")) + "}'"


_EXTRACTED = re.compile(r"\(CAST\((.*) AS jsonb\) #>> ('\{[^']*\}')\)", re.S)
# SQLite's "a IS b" / "a IS NOT b" with b a value (not NULL, TRUE, FALSE or DISTINCT FROM)
_IS_VALUE = re.compile(r"(?i)(\s+NOT)?(?=\s+(?!NULL\b|TRUE\b|FALSE\b|DISTINCT\b|NOT\b)[A-Za-z_?:(0-9'])")
_NUMERAL = re.compile(r"-?\d+(\.\d+)?")
_NUMBER_NEXT = re.compile(r"\s*(=|!=|<>|<=|>=|<|>)\s*-?\d")


def _number(extracted: str) -> str:
    """A translated ``json_extract`` as SQLite gives a number: numeric, true as 1, false as 0
    (``json_number``, a function the schema defines), for comparing with or adding numbers."""
    if extracted.startswith("json_number("):
        return extracted
    m = _EXTRACTED.fullmatch(extracted)
    assert m is not None
    return f"json_number(CAST({m.group(1)} AS jsonb) #> {m.group(2)})"


# JSON fields the server writes outside the entity schema that hold numbers or yes/no
SERVER_NUMBERS = frozenset({"out_of_scope"})


@lru_cache(maxsize=1)
def numeric_fields() -> frozenset[str]:
    """Fields read as numbers, as SQLite's json_extract gives them: every field the schema
    (sync/schema.py) declares integer, number or boolean (no field name has two kinds), and the
    server's own (``SERVER_NUMBERS``)."""
    from sync.schema import FIELDS

    return SERVER_NUMBERS | frozenset(name for fields in FIELDS.values() for name, spec in fields.items()
                                      if spec["kind"] in ("integer", "number", "boolean"))


def _as_jsonb(arg: str) -> str:
    """A value for ``jsonb_set``: JSON text (``json(x)``, already ``CAST(x AS jsonb)``) as it is,
    anything else as the JSON of its value."""
    return arg if re.fullmatch(r"(?s)CAST\(.* AS jsonb\)", arg) else f"to_jsonb({arg})"


# SQLite's functions with one PostgreSQL spelling for their arguments as they are
_SPELLED = {
    "json_each": "jsonb_array_elements_text(CAST({} AS jsonb))",
    "json": "CAST({} AS jsonb)",
    "json_type": "jsonb_typeof(CAST({} AS jsonb))",
    "json_group_array": "CAST(COALESCE(jsonb_agg({}), '[]'::jsonb) AS text)",  # SQLite's: [] over no rows
    "instr": "strpos({}, {})",
    "iif": "CASE WHEN {} THEN {} ELSE {} END",
}


def _call(name: str, args: list[str]) -> str | None:
    """The PostgreSQL spelling of SQLite's ``name(args)`` (args already translated), or None
    when the call reads the same in both."""
    if name == "json_extract":
        if len(args) != 2:
            raise Untranslatable("json_extract with several paths")
        made = f"(CAST({args[0]} AS jsonb) #>> {_path(args[1])})"
        return _number(made) if _path(args[1]).strip("'{}").split(",")[-1] in numeric_fields() else made
    if name in ("sum", "avg") and len(args) == 1 and _EXTRACTED.fullmatch(args[0]):
        return f"{name}({_number(args[0])})"
    if name == "coalesce" and any(_NUMERAL.fullmatch(a) for a in args):  # a number when missing: a number
        return "COALESCE(" + ", ".join(_number(a) if _EXTRACTED.fullmatch(a) else a for a in args) + ")"
    if name in _SPELLED and len(args) == _SPELLED[name].count("{"):
        return _SPELLED[name].format(*args)
    if name == "json_set":
        if len(args) != 3:
            raise Untranslatable("json_set with several paths")
        return f"CAST(jsonb_set(CAST({args[0]} AS jsonb), {_path(args[1])}, {_as_jsonb(args[2])}) AS text)"
    if name in ("max", "min") and len(args) > 1:
        return f"{'GREATEST' if name == 'max' else 'LEAST'}({', '.join(args)})"
    if name == "ifnull":
        return f"COALESCE({', '.join(args)})"
    if name == "strftime":
        fmt = _FORMATS.get((_literal(args[0]) or "").replace("%%", "%"))
        if fmt is None or _literal(args[1]) != "now" or len(args) > 3:
            raise Untranslatable(f"strftime({', '.join(args)})")
        at = "(now() AT TIME ZONE 'UTC')" + (f" + CAST({args[2]} AS interval)" if len(args) == 3 else "")
        return f"to_char({at}, '{fmt}')"
    if name in ("json_group_array", "json_object", "json_array", "json_insert", "json_remove",
                "json_patch", "group_concat", "total", "printf", "julianday", "unixepoch", "datetime",
                "glob", "last_insert_rowid"):
        raise Untranslatable(f"{name}() has no translation here")
    return None


def _rewrite(sql: str) -> str:
    """Functions, keywords and placeholders, outside string literals."""
    out: list[str] = []
    i = 0
    while i < len(sql):
        c = sql[i]
        if c == "'":
            j = _scan_string(sql, i)
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == '"':
            j = _scan_string(sql, i)
            out.append(sql[i:j])
            i = j
        elif c == "?":
            if i + 1 < len(sql) and sql[i + 1].isdigit():
                raise Untranslatable("numbered placeholders (?1): write them in order")
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        elif c.isalpha() or c == "_":
            m = _WORD.match(sql, i)
            assert m is not None
            word, j = m.group(0), m.end()
            k = j
            while k < len(sql) and sql[k] in " \t\n":
                k += 1
            lower = word.lower()
            qualified = i > 0 and sql[i - 1] == "."
            if k < len(sql) and sql[k] == "(" and not qualified:
                end = _close(sql, k)
                args = [_rewrite(a) for a in _split_args(sql[k + 1:end])] if sql[k + 1:end].strip() else []
                made = _call(lower, args)
                if made is not None and lower == "json_extract" and _NUMBER_NEXT.match(sql, end + 1):
                    made = _number(made)
                if made is not None:
                    out.append(made)
                    i = end + 1
                    continue
            if lower == "like":
                out.append("ILIKE")
            elif lower == "indexed" and re.match(r"(?i)\s+BY\s+[A-Za-z_][A-Za-z0-9_]*", sql[j:]):
                j += re.match(r"(?i)\s+BY\s+[A-Za-z_][A-Za-z0-9_]*", sql[j:]).end()  # a SQLite plan hint
            elif lower == "is" and _IS_VALUE.match(sql, j):
                m_is = _IS_VALUE.match(sql, j)
                out.append("IS DISTINCT FROM" if m_is.group(1) else "IS NOT DISTINCT FROM")
                j = m_is.end(1) if m_is.group(1) else j
            elif lower == "rowid":
                out.append("ctid")
            elif lower == "real" and "".join(out).rstrip().upper().endswith(" AS"):
                out.append("double precision")
            else:
                out.append(word)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


_INSERT_OR = re.compile(r"(?is)^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(([^)]*)\))?")
_PRAGMA_INFO = re.compile(r"(?is)^\s*PRAGMA\s+table_info\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")
_RETURNING = re.compile(r"(?is)\sRETURNING\s")


def _insert_or(sql: str) -> str:
    m = _INSERT_OR.match(sql)
    if not m:
        return sql
    kind, table, columns = m.group(1).upper(), m.group(2), m.group(4)
    head = f"INSERT INTO {table}" + (f" ({columns})" if columns is not None else "")
    rest = sql[m.end():]
    if kind == "IGNORE":
        clause = " ON CONFLICT DO NOTHING"
    else:
        keys = conflict_keys(table)
        if not keys or columns is None:
            raise Untranslatable(f"INSERT OR REPLACE INTO {table}: name the columns (and the table a key)")
        names = [c.strip() for c in columns.split(",")]
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in names if c not in keys)
        clause = f" ON CONFLICT ({', '.join(keys)}) " + (f"DO UPDATE SET {sets}" if sets else "DO NOTHING")
    returning = _RETURNING.search(rest)
    if returning:
        return head + rest[:returning.start()] + clause + rest[returning.start():]
    return head + rest.rstrip().rstrip(";") + clause


@lru_cache(maxsize=1)
def integer_columns() -> frozenset[str]:
    """Column names that hold integers in every table that has them (``pupil_pk``, ``week`` …;
    not ``id``, text in most tables): a list of them from JSON compares as integers."""
    from .schema_derived import derive

    kinds: dict[str, set[bool]] = {}
    for columns in derive().columns.values():
        for name, ddl in columns:
            kinds.setdefault(name, set()).add(ddl.split()[1] == "bigint")
    return frozenset(name for name, ints in kinds.items() if ints == {True})


_IN_JSON_LIST = re.compile(r"(?i)\b([A-Za-z_][A-Za-z0-9_]*)\s+(NOT\s+)?IN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(")


def _typed_lists(sql: str) -> str:
    """``col IN (SELECT value FROM json_each(?))`` for an integer column: the values as integers
    (SQLite compares a JSON number with an integer as equal; PostgreSQL needs one type)."""
    def typed(m: re.Match[str]) -> str:
        if m.group(1) not in integer_columns():
            return m.group(0)
        return m.group(0).replace("value", "CAST(value AS INTEGER)", 1)
    return _IN_JSON_LIST.sub(typed, sql)


@lru_cache(maxsize=1)
def not_null() -> dict[str, frozenset[str]]:
    """Each table's columns that are NOT NULL or its key."""
    from .schema_derived import derive

    derived = derive()
    return {table: frozenset(name for name, ddl in columns if "NOT NULL" in ddl or name in derived.keys[table])
            for table, columns in derived.columns.items()}


_TABLE_REF = re.compile(r"(?i)\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(?:AS\s+)?(?!(?:ON|WHERE|JOIN|LEFT|"
                        r"INNER|CROSS|GROUP|ORDER|LIMIT|USING|NATURAL|UNION)\b)([A-Za-z_][A-Za-z0-9_]*))?")


def _never_null(term: str, tables: dict[str, str]) -> bool:
    """Whether ``term`` is a column that is NOT NULL where the statement reads it (``tables``:
    its aliases and table names to tables)."""
    m = _COLUMN.fullmatch(term)
    if m is None:
        return False
    if m.group(1).lower() == "rowid":
        return True
    qualifier, name = term.rpartition(".")[0], m.group(1)
    known = not_null()
    if qualifier:
        table = tables.get(qualifier, qualifier)
        return name in known.get(table, frozenset())
    having = [t for t in set(tables.values()) if any(name == c for c, _ in _columns_of(t))]
    return bool(having) and all(name in known.get(t, frozenset()) for t in having)


def _columns_of(table: str) -> list[tuple[str, str]]:
    from .schema_derived import derive

    return derive().columns.get(table, [])


_ORDER_BY = re.compile(r"(?i)\bORDER\s+BY\b")
_ORDER_END = re.compile(r"(?i)\b(LIMIT|OFFSET|UNION|EXCEPT|INTERSECT|WINDOW|RETURNING)\b")
_COLUMN = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.)?([A-Za-z_][A-Za-z0-9_]*)")


def _nulls_as_sqlite(sql: str) -> str:
    """SQLite sorts NULL before every value; PostgreSQL after: each ORDER BY term that may be
    NULL says where, as SQLite has it (NULLS FIRST ascending, NULLS LAST descending). A column
    NOT NULL in the table the statement reads it from is left as it is, so its indexes still
    give the order."""
    out, pos = [], 0
    tables: dict[str, str] = {}
    for ref in _TABLE_REF.finditer(sql):
        tables[ref.group(1)] = ref.group(1)
        if ref.group(2):
            tables[ref.group(2)] = ref.group(1)
    for m in _ORDER_BY.finditer(sql):
        if m.start() < pos or sql[:m.start()].count("'") % 2:
            continue  # inside a clause already done, or a literal
        start, terms, depth, j, term_start = m.end(), [], 0, m.end(), m.end()
        while j < len(sql):
            c = sql[j]
            if c == "'":
                j = _scan_string(sql, j)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (c in ",;" or _ORDER_END.match(sql, j) and not sql[j - 1].isalnum()):
                terms.append((term_start, j))
                if c != ",":
                    break
                term_start = j + 1
            j += 1
        else:
            terms.append((term_start, j))
        if not terms or terms[-1][1] != j:
            terms.append((term_start, j))
        out.append(sql[pos:start])
        pos = start
        for a, b in terms:
            out.append(sql[pos:a])
            out.append(_placed(sql[a:b], tables))
            pos = b
    out.append(sql[pos:])
    return "".join(out)


def _placed(term: str, tables: dict[str, str]) -> str:
    body = term.rstrip()
    if not body.strip() or re.search(r"(?i)\bNULLS\s+(FIRST|LAST)$", body):
        return term
    descending = re.search(r"(?i)\sDESC$", body) is not None
    if _never_null(re.sub(r"(?i)\s+(ASC|DESC)$", "", body).strip(), tables):
        return term
    return body + (" NULLS LAST" if descending else " NULLS FIRST") + term[len(body):]


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """``sql`` (the server's SQLite statement) in PostgreSQL's spelling, for psycopg."""
    info = _PRAGMA_INFO.match(sql)
    if info:
        return ("SELECT column_name AS name FROM information_schema.columns "
                f"WHERE table_schema = current_schema() AND table_name = '{info.group(1)}'")
    if re.match(r"(?is)^\s*(PRAGMA|ATTACH|DETACH|VACUUM)\b", sql):
        raise Untranslatable(f"SQLite-only statement: {sql.split()[0]} …")
    return _rewrite(_insert_or(_typed_lists(_nulls_as_sqlite(sql))))
