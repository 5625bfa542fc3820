"""The docs stay true: every CLI command and every API endpoint is documented."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from starlette.routing import Route

from server.app import api_routes
from server.cli import _parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_cli_command_is_in_the_readme():
    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in commands.items():
        nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
        if nested:
            for action in nested[0].choices:
                assert f"{name} {action}" in README, f"README does not show `doorstep {name} {action}`"
        else:
            assert f" {name}" in README, f"README does not show `doorstep {name}`"


def test_every_endpoint_is_in_the_readme_and_openapi():
    from server.openapi import spec

    paths = spec()["paths"]
    for route in api_routes():
        assert isinstance(route, Route)
        assert route.path in paths, f"{route.path} is missing from /api/openapi.json"
        for method in route.methods or ():
            if method != "HEAD":
                assert method.lower() in paths[route.path]
        tail = route.path.rsplit("/", 1)[-1]
        assert tail in README or route.path.split("{")[0] in README, f"README does not mention {route.path}"


def test_readme_has_the_two_commands_and_ci_runs_the_second():
    assert "bash .ci/demo" in README and "bash .ci/run" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pytest" in ci


# [text](target), ![alt](target) and reference definitions "[name]: target"
_INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REF_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)


def _link_targets(markdown: str) -> list[str]:
    prose = _CODE_SPAN.sub("", _FENCE.sub("", markdown))  # links inside code are not links
    return _INLINE_LINK.findall(prose) + _REF_LINK.findall(prose)


def test_docs_stand_on_their_own():
    """README.md and docs/ name nothing outside the repository: no ``../shared`` (the design
    notes beside it are not part of a clone) and no markdown link to a path the repository
    does not hold. Links to public web pages (http, https, mailto) and to anchors are fine."""
    docs = sorted(p for p in (ROOT / "docs").rglob("*") if p.is_file())
    problems = []
    for path in [ROOT / "README.md", *docs]:
        name = path.relative_to(ROOT).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for outside in ("../shared", "shared/design/"):
            if outside in text:
                problems.append(f"{name} mentions {outside!r}")
        if path.suffix != ".md":
            continue
        for target in _link_targets(text):
            if re.match(r"^(https?:|mailto:|#)", target, re.IGNORECASE):
                continue
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                problems.append(f"{name} links to {target} (only http(s), mailto and repository paths)")
                continue
            relative = unquote(target.split("#", 1)[0].split("?", 1)[0])
            base = ROOT if relative.startswith("/") else path.parent
            resolved = (base / relative.lstrip("/")).resolve()
            if not resolved.is_relative_to(ROOT):
                problems.append(f"{name} links outside the repository: {target}")
            elif not resolved.exists():
                problems.append(f"{name} links to {target}, which the repository does not hold")
    assert not problems, "\n".join(problems)
