"""The docs stay true: every CLI command and every API endpoint is documented."""
from __future__ import annotations

from pathlib import Path

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
