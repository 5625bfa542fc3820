"""The engine compiled to C by mypyc, used only while it is the build of these very sources.

The engine is plain, fully typed Python. ``python -m sync.native_build`` (run by ``.ci/setup``)
compiles the modules of ``COMPILED`` with mypyc into extension modules beside them and writes
``native.json``: the SHA-256 of the sources it compiled. ``sync/__init__.py`` calls ``use()``
before anything else of the engine is imported: the compiled modules load only when every
source still hashes to what was compiled, so an edit, a checkout or a pull can never run stale
C. Otherwise (or with ``DOORSTEP_PURE=1``) a finder loads each of those modules from its
``.py``, all of them or none, since compiled modules call one another directly.

Both forms pass the same tests (tests/sync/test_native.py runs the engine's tests on the
interpreted form); the compiled one costs the push about a quarter fewer instructions a change
(0.76 × the interpreted engine's; docs/performance.md, "Sync round ten").
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "native.json"
GROUP = "sync.engine"  # the shared library's module: sync/engine__mypyc.*.so
LIBRARY = GROUP.rsplit(".", 1)[1] + "__mypyc"  # its file name's stem (mypyc adds "__mypyc")
# Every module of the engine but the package, this file, the Python model of the phone
# (client.py), the exceptions (mypyc cannot compile a dataclass exception), the memory store
# the tests replace, and the schema export read at start-up.
COMPILED = (
    "batch", "casework", "changes", "checks", "clock_mark", "consistency", "cursor", "hlc",
    "horizon", "ladder", "merge", "notices", "pull", "pull_item", "push", "references",
    "relationships", "resolve", "rules", "rows", "runs_age", "schema", "schema_codes", "schema_kinds",
    "scope", "scope_watch", "types",
)


def sources_hash() -> str:
    """The SHA-256 of the compiled modules' sources, in ``COMPILED`` order."""
    h = hashlib.sha256()
    for name in COMPILED:
        h.update(name.encode() + b"\0" + (HERE / f"{name}.py").read_bytes() + b"\0")
    return h.hexdigest()


def built_hash() -> str | None:
    try:
        return str(json.loads(MANIFEST.read_text())["sources"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class _SourceFinder:
    """Loads the engine's compiled modules from their ``.py`` files instead."""

    names = frozenset(f"sync.{n}" for n in COMPILED)

    @classmethod
    def find_spec(cls, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in cls.names:
            return None
        return importlib.util.spec_from_file_location(fullname, HERE / f"{fullname[5:]}.py")


def built_here() -> bool:
    """The compiled engine is here for this interpreter (its shared library's file name carries
    the Python version and platform) and was compiled from these very sources."""
    return (any((HERE / f"{LIBRARY}{suffix}").is_file() for suffix in importlib.machinery.EXTENSION_SUFFIXES)
            and built_hash() == sources_hash())


def use() -> bool:
    """True when the compiled engine will load; else make sure the interpreted one does."""
    if os.environ.get("DOORSTEP_PURE", "") in ("", "0") and built_here():
        return True
    if _SourceFinder not in sys.meta_path:
        sys.meta_path.insert(0, _SourceFinder)  # type: ignore[arg-type]
    return False
