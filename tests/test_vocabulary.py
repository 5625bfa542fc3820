"""The schema declared once (sync/schema.py) and the words for it (sync/vocabulary.json).

Every code and field has a label; the office and the phone read the same file; the
PWA's copy of the schema (pwa/schema.js) is the export, in the shell; the checkers,
the OpenAPI components and the PWA's validator agree with the declaration.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from server.office import labels
from server.openapi import spec as openapi_spec
from server.pwa_shell import shell_files, stamped_worker
from sync import schema
from sync.rules import FOLLOW_UP_ANSWERS
from sync.schema_export import PWA_FILE, document, pwa_source, vocabulary

ROOT = Path(__file__).resolve().parent.parent
PWA = ROOT / "pwa"


def all_fields(fields: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, spec in fields.items():
        out.append((name, spec))
        if spec["kind"] == "object":
            out += all_fields(spec["fields"])
        if spec["kind"] == "list" and spec["items"]["kind"] == "object":
            out += all_fields(spec["items"]["fields"])
    return out


def test_every_enum_code_field_and_type_has_a_label() -> None:
    vocab = vocabulary()
    for name, codes in schema.ENUMS.items():
        words = vocab["enums"].get(name)
        assert words is not None, f"sync/vocabulary.json has no enum {name}"
        assert list(words) == list(codes), f"{name}: the vocabulary's codes differ from the schema's"
        for code, entry in words.items():
            assert entry.get("label", "").strip(), f"{name}.{code} has no label"
    for type_, fields in schema.FIELDS.items():
        assert vocab["types"][type_]["label"].strip()
        for name, spec in all_fields(fields):
            assert vocab["fields"].get(name, {}).get("label", "").strip(), f"{type_}.{name} has no label"
            if spec["kind"] == "enum" or spec.get("items", {}).get("kind") == "enum":
                enum = spec.get("enum") or spec["items"]["enum"]
                assert enum in schema.ENUMS, f"{type_}.{name}: unknown enum {enum}"
    for entries in [*vocab["enums"].values(), vocab["fields"], vocab["types"]]:
        for entry in entries.values():
            assert set(entry) <= {"label", "help"}, entry


def test_the_office_reads_the_vocabulary() -> None:
    words = {name: {c: e["label"] for c, e in codes.items()} for name, codes in vocabulary()["enums"].items()}
    assert labels.OUTCOMES == words["outcome"]
    assert labels.STAGE_LABELS == words["stage"]
    assert labels.BANDS == words["band"]
    assert labels.BARRIERS == words["barrier"]
    assert labels.AGENCIES == words["agency"]
    assert labels.REVIEW_STATES == words["review_state"]
    assert labels.value_text("child_seen", "outcome") == "Saw the child only"
    assert labels.field_label("spoke_with") == "Who was spoken to"
    assert labels.value_text(["financial", "send_unmet_need"], "barriers") == "Money worries, SEND need not met"
    assert labels.KINDS["visit"] == vocabulary()["types"]["visit"]["label"]


def test_the_pwa_has_no_label_table_of_its_own() -> None:
    """No PWA module but the generated schema.js spells a code's label next to the code."""
    codes = {c for cs in schema.ENUMS.values() for c in cs}
    pair = re.compile(r"\b(" + "|".join(sorted(codes, key=len, reverse=True)) + r")\s*:\s*['\"`]")
    for path in sorted(PWA.rglob("*.js")):
        if "tests" in path.parts or path.name == "schema.js":
            continue
        hits = pair.findall(path.read_text(encoding="utf-8"))
        assert not hits, f"{path.relative_to(ROOT)} has its own words for {hits}: use sync/vocabulary.json"
    for name in ("ui.js", "visit.js", "conversation.js"):
        src = (PWA / "views" / name).read_text(encoding="utf-8")
        for words in ("Saw child only", "Refused to engage", "Saw the child", "Choose the outcome of", "Say who you"):
            assert words not in src, f"views/{name} spells '{words}' itself"


def test_pwa_schema_js_is_the_export() -> None:
    assert PWA_FILE.read_text(encoding="utf-8") == pwa_source(), \
        "pwa/schema.js is stale: run .venv/bin/python -m sync.schema_export"
    source = PWA_FILE.read_text(encoding="utf-8")
    body = source[source.index("export const SCHEMA = ") + len("export const SCHEMA = "):].rstrip().rstrip(";")
    doc = json.loads(body)
    assert doc == json.loads(json.dumps(document()))
    assert doc["version"] >= 1 and set(doc) == {"version", "types", "enums", "rules", "consistency",
                                                "follow_up_answers", "vocabulary"}
    assert doc["types"]["visit"]["fields"]["notes"] == {"kind": "string", "max": 10_000, "nullable": True,
                                                        "required": False}


def test_the_phone_reads_the_follow_up_answer_rule_the_server_reads() -> None:
    """sync/rules.py FOLLOW_UP_ANSWERS, exported in pwa/schema.js, is what views/followups.js reads;
    every type and field it names is declared, and the phone spells none of it itself."""
    source = PWA_FILE.read_text(encoding="utf-8")
    doc = json.loads(source[source.index("= ") + 2:].rstrip().rstrip(";"))
    assert doc["follow_up_answers"] == FOLLOW_UP_ANSWERS
    for rule in FOLLOW_UP_ANSWERS:
        fields = schema.FIELDS[rule["type"]]
        assert fields[rule["field"]]["kind"] == "ref", rule
        assert set(rule["when"]) <= set(fields) and rule.get("of", "visit") in schema.ENUMS["subject_type"], rule
    followups = (PWA / "views" / "followups.js").read_text(encoding="utf-8")
    assert "SCHEMA.follow_up_answers" in followups
    for spelt in ("follow_up_of ===", "visit_id ===", "'submitted'", "data.note", "data.visit", "data.conversation"):
        assert spelt not in followups, f"views/followups.js spells the rule itself: {spelt}"


def test_the_schema_is_a_shell_file_and_changes_the_worker(tmp_path) -> None:
    assert "schema.js" in shell_files((PWA / "sw.js").read_text(encoding="utf-8"))
    copy = tmp_path / "pwa"
    shutil.copytree(PWA, copy, ignore=shutil.ignore_patterns("tests", "node_modules"))
    before = stamped_worker(copy)
    (copy / "schema.js").write_text(pwa_source().replace('"max": 10000', '"max": 9999', 1), encoding="utf-8")
    assert stamped_worker(copy) != before


def test_the_served_schema_is_the_file(client) -> None:
    r = client.get("/app/schema.js")
    assert r.status_code == 200
    assert r.content == PWA_FILE.read_bytes()
    assert "javascript" in r.headers["content-type"]


@pytest.mark.parametrize("type_", list(schema.FIELDS))
def test_the_checkers_follow_the_declaration(type_: str) -> None:
    for name, spec in schema.FIELDS[type_].items():
        check = schema.ENTITY_TYPES[type_][name].check
        kind = spec["kind"]
        if kind == "string" and "pattern" not in spec:
            assert check("x" * spec["max"]) == "x" * spec["max"]
            with pytest.raises(ValueError):
                check("x" * (spec["max"] + 1))
        if kind == "enum":
            for code in schema.ENUMS[spec["enum"]]:
                assert check(code) == code
            with pytest.raises(ValueError):
                check("not_a_code")
        if kind in ("integer", "number"):
            assert check(spec["min"]) == spec["min"] and check(spec["max"]) == spec["max"]
            with pytest.raises(ValueError):
                check(spec["max"] + 1)
        if spec.get("nullable"):
            assert check(None) is None
        else:
            with pytest.raises(ValueError):
                check(None)
        assert schema.ENTITY_TYPES[type_][name].required == bool(spec.get("required"))


def test_openapi_entity_components_follow_the_declaration() -> None:
    comps = openapi_spec()["components"]["schemas"]
    for type_, fields in schema.FIELDS.items():
        comp = comps[f"entity.{type_}"]
        assert list(comp["properties"]) == list(fields)
        assert comp["x-required-on-create"] == [n for n, s in fields.items() if s.get("required")]
        for name, spec in fields.items():
            prop = comp["properties"][name]
            nullable = isinstance(prop["type"], list) and "null" in prop["type"]
            assert nullable == bool(spec.get("nullable")), (type_, name)
            if spec["kind"] == "string":
                assert prop["maxLength"] == spec["max"], (type_, name)
            if spec["kind"] == "enum":
                assert [v for v in prop["enum"] if v is not None] == list(schema.ENUMS[spec["enum"]])
    notes = comps["entity.visit"]["properties"]["notes"]
    assert notes == {"type": ["string", "null"], "maxLength": 10_000}


# (type, record as it would be after the change, creating?) — the PWA and the server must agree
CASE = "0f8fad5b-d9cb-469f-a165-70867728950e"
CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("visit", {"case_id": CASE, "status": "draft"}, True),
    ("visit", {"status": "draft"}, True),
    ("visit", {"case_id": CASE, "status": "submitted"}, False),
    ("visit", {"case_id": CASE, "status": "submitted", "outcome": "no_answer"}, False),
    ("visit", {"case_id": CASE, "status": "submitted", "outcome": "no_answer", "safeguarding_concern": True,
               "concern_details": " "}, False),
    ("visit", {"case_id": CASE, "status": "submitted", "outcome": "refused", "safeguarding_concern": True,
               "concern_details": "Bruise"}, False),
    ("visit", {"case_id": CASE, "notes": "x" * 10_000}, False),
    ("visit", {"case_id": CASE, "notes": "x" * 10_001}, False),
    ("visit", {"case_id": CASE, "outcome": "gone"}, False),
    ("visit", {"case_id": CASE, "barriers": ["housing", "housing"]}, False),
    ("visit", {"case_id": CASE, "barriers": ["housing", "other"], "lat": 51.5, "lon": -0.1}, False),
    ("visit", {"case_id": CASE, "lat": 95}, False),
    ("visit", {"case_id": CASE, "accuracy_m": "10"}, False),
    ("visit", {"case_id": CASE, "started_at": "2026-11-22T08:15:00Z"}, False),
    ("visit", {"case_id": CASE, "started_at": "2026-11-22 08:15"}, False),
    ("visit", {"case_id": CASE, "status": None}, False),
    ("conversation", {"case_id": CASE, "status": "submitted", "spoke_with": "Mum"}, True),
    ("conversation", {"case_id": CASE, "status": "submitted"}, False),
    ("conversation", {"case_id": CASE, "spoke_with": "y" * 201}, False),
    ("conversation", {"case_id": CASE, "next_contact_on": "2026-02-30"}, False),
    ("conversation", {"case_id": CASE, "agreed_actions": [{"action": "Call", "owner": None, "due_on": "2026-12-01"}]},
     False),
    ("conversation", {"case_id": CASE, "agreed_actions": [{"action": None, "owner": "Mum", "due_on": None}]}, False),
    ("conversation", {"case_id": CASE, "agreed_actions": [{"action": "a" * 501}]}, False),
    ("household", {"address": "1 High St", "contacts": [{"name": "Jo", "phone": "0"}]}, True),
    ("household", {"contacts": [{"phone": "0"}]}, False),
    ("task", {"case_id": CASE}, True),
    ("transport_stop", {"status": "picked_up", "event_at": "2026-11-22T08:15:00.250Z"}, False),
    ("transport_stop", {"status": "lost"}, False),
]


def server_accepts(type_: str, record: dict[str, Any], creating: bool) -> bool:
    clean, errors = schema.validate_fields(type_, record)
    if errors:
        return False
    if creating:
        clean = {**schema.DEFAULTS.get(type_, {}), **clean}
        if schema.missing_required(type_, clean):
            return False
    return not schema.check_complete(type_, clean)


def test_the_pwa_validator_and_the_server_agree() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = ("import { validateRecord } from './validate.js';\n"
              "const cases = JSON.parse(process.argv[1]);\n"
              "console.log(JSON.stringify(cases.map(([t, r, c]) => validateRecord(t, r, { creating: c }).length === 0)));\n")
    proc = subprocess.run([node, "--input-type=module", "-e", script, json.dumps(CASES)], cwd=PWA,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    phone = json.loads(proc.stdout)
    server = [server_accepts(t, r, c) for t, r, c in CASES]
    assert phone == server, [(t, r if len(json.dumps(r)) < 200 else "…", p, s)
                             for (t, r, _), p, s in zip(CASES, phone, server) if p != s]
    assert True in server and False in server
