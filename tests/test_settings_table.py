"""docs/deploy.md's table of settings is the whole truth: every ``DOORSTEP_*`` environment
variable the server's code names is a row, and every row is a variable the code names. The
code is read as text, so a setting added anywhere under ``server/`` without a row fails here.
Also: the systemd unit and the Caddyfile in ``docs/deploy/`` agree with the code and each other.
"""
from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from server.cli import _parser

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_MD = ROOT / "docs" / "deploy.md"
UNIT = ROOT / "docs" / "deploy" / "doorstep.service"
CADDYFILE = ROOT / "docs" / "deploy" / "Caddyfile"

# DOORSTEP_ then upper-case words; an f-string may build part of the name ({...})
_MENTION = re.compile(r"DOORSTEP_[A-Z0-9_]*(?:\{[^}\n]*\}[A-Z0-9_]*)*(\*?)")
_CASE = {"upper": str.upper, "lower": str.lower}


def _strings(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level dicts (their keys), lists, tuples and sets of string literals, by name."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            value = node.value
            items = value.keys if isinstance(value, ast.Dict) else getattr(value, "elts", None)
            if items and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in items):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        out[target.id] = [k.value for k in items]  # type: ignore[union-attr]
    return out


def _fill(fstring: ast.JoinedStr, var: str, values: list[str]) -> list[str] | None:
    """The names ``f"...{var}..."`` (or ``{var.upper()}``, ``.lower()``) makes from ``values``."""
    pieces = []
    for part in fstring.values:
        if isinstance(part, ast.Constant):
            pieces.append(lambda _v, text=str(part.value): text)
            continue
        e = part.value if isinstance(part, ast.FormattedValue) else None
        if isinstance(e, ast.Name) and e.id == var:
            pieces.append(str)
        elif (isinstance(e, ast.Call) and not e.args and isinstance(e.func, ast.Attribute)
              and e.func.attr in _CASE and isinstance(e.func.value, ast.Name) and e.func.value.id == var):
            pieces.append(_CASE[e.func.attr])
        else:
            return None
    return ["".join(piece(v) for piece in pieces) for v in values]


def built_names(source: str) -> list[str]:
    """The ``DOORSTEP_*`` names f-strings build in a loop over a module-level collection of
    string literals (``for step, ... in LEGAL_STEPS.items(): f"DOORSTEP_..._{step.upper()}_..."``)."""
    tree = ast.parse(source)
    collections = _strings(tree)
    out: list[str] = []
    for loop in ast.walk(tree):
        if not isinstance(loop, ast.For):
            continue
        it = loop.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("items", "keys"):
            it = it.func.value
        target = loop.target.elts[0] if isinstance(loop.target, ast.Tuple) else loop.target
        if not (isinstance(it, ast.Name) and it.id in collections and isinstance(target, ast.Name)):
            continue
        for node in ast.walk(loop):
            if isinstance(node, ast.JoinedStr):
                out += [n for n in _fill(node, target.id, collections[it.id]) or [] if n.startswith("DOORSTEP_")]
    return out


def names_in_code() -> dict[str, str]:
    """{name: first file} for every ``DOORSTEP_*`` name in server/'s Python, names built by
    f-strings expanded. ``DOORSTEP_*`` or ``DOORSTEP_RETENTION_*`` in prose name a family, not
    a setting, and are left out."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "server").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        built: list[str] | None = None
        for m in _MENTION.finditer(source):
            text = m.group(0)
            if m.group(1):  # a glob in a docstring
                continue
            if "{" not in text:
                assert not text.endswith("_"), f"{where}: {text!r} is not a whole setting name"
                found.setdefault(text, where)
                continue
            built = built_names(source) if built is None else built
            pattern = "[A-Z0-9_]+".join(re.escape(p) for p in re.split(r"\{[^}]*\}", text))
            names = [n for n in built if re.fullmatch(pattern, n)]
            assert names, (f"{where} builds {text!r} in a way this test cannot expand: loop over a "
                           "module-level collection of strings, or name each setting literally")
            for name in names:
                found.setdefault(name, where)
    return found


def table_rows() -> list[list[str]]:
    """The rows of the table under docs/deploy.md's "## Settings" heading, as cells."""
    text = DEPLOY_MD.read_text(encoding="utf-8")
    section = re.search(r"^## Settings\b.*?$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert section, "docs/deploy.md has no '## Settings' section"
    rows = [line for line in section.group(1).splitlines() if line.startswith("|")]
    assert len(rows) > 2, "the Settings section holds no table"
    header, rule, *body = ([c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows)
    assert [h.lower() for h in header[:3]] == ["variable", "default", "meaning"], header
    assert all(set(c) <= set("-: ") for c in rule)
    return body


def table_names() -> list[str]:
    names = []
    for cells in table_rows():
        found = re.fullmatch(r"`(DOORSTEP_[A-Z0-9_]+)`", cells[0])
        assert found, f"the first cell of a settings row is one `DOORSTEP_NAME`: {cells[0]!r}"
        assert len(cells) >= 3 and cells[1] and cells[2], f"{cells[0]}: default and meaning must be filled in"
        names.append(found.group(1))
    return names


def test_the_scan_finds_settings_and_expands_names_built_at_run_time() -> None:
    found = names_in_code()
    # known readers, each in a different place: if the scan misses these it misses others
    assert {"DOORSTEP_DB", "DOORSTEP_SECURE_COOKIES", "DOORSTEP_FORWARDED_ALLOW_IPS",
            "DOORSTEP_ACCESS_TTL", "DOORSTEP_OFFICE_IDLE", "DOORSTEP_PASSWORD"} <= set(found)
    source = ('STEPS: dict[str, int] = {"penalty_notice": 6, "prosecution": 10}\n'
              "for step, years in STEPS.items():\n"
              '    name = f"DOORSTEP_RETENTION_{step.upper()}_YEARS"\n')
    assert built_names(source) == ["DOORSTEP_RETENTION_PENALTY_NOTICE_YEARS", "DOORSTEP_RETENTION_PROSECUTION_YEARS"]
    assert built_names('for x in names():\n    f"DOORSTEP_{x}"\n') == []  # not expandable: the scan fails
    assert _MENTION.search("``DOORSTEP_RETENTION_*`` variables").group(1) == "*"  # type: ignore[union-attr]


def test_every_setting_the_code_reads_is_in_the_table_and_no_other() -> None:
    found = names_in_code()
    names = table_names()
    assert len(names) == len(set(names)), f"a setting is listed twice: {sorted(n for n in names if names.count(n) > 1)}"
    missing = {n: where for n, where in found.items() if n not in names}
    assert not missing, f"settings read by the code but missing from docs/deploy.md's table: {missing}"
    unknown = sorted(set(names) - set(found))
    assert not unknown, f"docs/deploy.md's table lists settings no code under server/ reads: {unknown}"


def _value(node: ast.expr) -> object:
    """A default written as a literal or plain arithmetic on literals (``15 * 60``)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand)  # type: ignore[operator]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Add | ast.Sub):
        left, right = _value(node.left), _value(node.right)
        return {ast.Mult: left * right, ast.Add: left + right, ast.Sub: left - right}[type(node.op)]  # type: ignore
    raise ValueError(ast.dump(node))


def defaults_in_code() -> dict[str, set[object]]:
    """{name: defaults} from every call ``f("DOORSTEP_X", default)`` under server/: ``_env_int``,
    ``_env_bool``, ``os.environ.get`` and the like. A default that is not a literal is left out."""
    out: dict[str, set[object]] = {}
    for path in sorted((ROOT / "server").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).startswith("DOORSTEP_")):
                continue
            try:
                out.setdefault(str(node.args[0].value), set()).add(_value(node.args[1]))
            except (ValueError, TypeError):
                continue
    return out


def _same(cell: str, value: object) -> bool:
    shown = cell.strip("`").split(" ")[0].strip("`")
    if isinstance(value, bool):
        return shown == ("on" if value else "off")
    try:
        return float(shown) == float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return shown == str(value)


def test_the_tables_defaults_are_the_codes() -> None:
    rows = {re.sub(r"`", "", cells[0]): cells[1] for cells in table_rows()}
    defaults = defaults_in_code()
    assert {"DOORSTEP_ACCESS_TTL", "DOORSTEP_SECURE_COOKIES", "DOORSTEP_DB"} <= set(defaults)
    wrong = {name: (rows[name], sorted(map(repr, values))) for name, values in defaults.items()
             if name in rows and not all(_same(rows[name], v) for v in values)}
    assert not wrong, f"docs/deploy.md's defaults differ from the code's (table, code): {wrong}"


def test_the_unit_sets_only_real_settings_and_its_command_parses() -> None:
    unit = UNIT.read_text()
    found = names_in_code()
    for name in re.findall(r"^Environment=(DOORSTEP_[A-Z0-9_]+)=", unit, re.MULTILINE):
        assert name in found, f"doorstep.service sets {name}, which no code reads"
    example = (ROOT / "docs" / "deploy" / "doorstep.env").read_text()
    for name in re.findall(r"^#?(DOORSTEP_[A-Z0-9_]+)=", example, re.MULTILINE):
        assert name in found, f"docs/deploy/doorstep.env names {name}, which no code reads"
    assert "EnvironmentFile=-/etc/doorstep/doorstep.env" in unit
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE)
    assert exec_start
    argv = shlex.split(exec_start.group(1))
    assert argv[0].endswith("/doorstep")
    args = _parser().parse_args(argv[1:])
    assert args.command == "serve" and args.workers >= 1
    assert args.host == "127.0.0.1", "behind Caddy the server listens on loopback only"
    # Caddy proxies to the port the unit serves on
    assert f"reverse_proxy 127.0.0.1:{args.port}" in CADDYFILE.read_text()
    # the one place the service may write is its data directory, where its database is
    db = re.search(r"^Environment=DOORSTEP_DB=(.*)$", unit, re.MULTILINE)
    rw = re.search(r"^ReadWritePaths=(.*)$", unit, re.MULTILINE)
    assert db and rw and "ProtectSystem=strict" in unit
    assert Path(db.group(1)).parent.as_posix() in rw.group(1).split()


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """``systemd-analyze verify`` finds nothing to say (a misspelt key is only a warning to
    systemd, so any output fails). The unit's program is pointed at this checkout's."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    program = ROOT / ".venv" / "bin" / "doorstep"
    if not program.exists():
        pytest.skip("no .venv/bin/doorstep to stand in for /opt/doorstep's")
    unit = tmp_path / "doorstep.service"
    unit.write_text(UNIT.read_text().replace("/opt/doorstep/.venv/bin/doorstep", str(program)))
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
