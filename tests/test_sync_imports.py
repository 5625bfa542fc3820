"""The sync engine's modules import one another without a cycle (also inside functions), and
each imports on its own, in a fresh interpreter."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SYNC = Path(__file__).resolve().parent.parent / "sync"


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in SYNC.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        graph[path.stem] = deps - {path.stem}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for dep in sorted(graph.get(node, ())):
            if dep != "__init__" and dep in graph:
                found = visit(dep, path + [node])
                if found:
                    return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, []) if start != "__init__" else None
        if found:
            return found
    return None


def test_no_import_cycle_in_the_engine():
    graph = _graph()
    assert {"push", "pull", "store", "pull_item", "batch"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_each_engine_module_imports_fresh():
    modules = sorted(f"sync.{p.stem}" for p in SYNC.glob("*.py") if p.stem != "__init__")
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    [sys.modules.pop(k) for k in list(sys.modules) " \
           "if k == 'sync' or k.startswith('sync.')]\n    importlib.import_module(m)\n"
    done = subprocess.run([sys.executable, "-c", code, *modules], cwd=SYNC.parent, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
