"""sync/native.py: the compiled engine loads only when it is the build of the sources beside it,
and the interpreted engine it falls back to passes the engine's own tests."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sync
from sync import native

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import sync, sync.merge; print(sync.NATIVE, Path(sync.merge.__spec__.origin).name)"


def _probe(root: Path, **env: str) -> tuple[str, str]:
    """(``sync.NATIVE``, the file ``sync.merge`` came from) in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", "from pathlib import Path; " + PROBE],
                         cwd=root, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(root), "DOORSTEP_PURE": "", **env})
    assert out.returncode == 0, out.stderr
    native_, origin = out.stdout.split()
    return native_, origin


@pytest.fixture()
def built() -> None:
    if not native.built_here():
        if os.environ.get("CI"):  # CI measures and tests what it ships: .ci/setup compiles the engine
            pytest.fail("the engine is not compiled in CI: .ci/setup runs python -m sync.native_build")
        pytest.skip("the engine is not compiled here (python -m sync.native_build)")


def test_this_process_runs_the_build_when_it_is_current(built: None) -> None:
    assert sync.NATIVE is (os.environ.get("DOORSTEP_PURE", "") in ("", "0"))


def test_a_current_build_loads_and_an_edited_source_never_runs_stale_code(built: None, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "sync", tmp_path / "sync", ignore=shutil.ignore_patterns("__pycache__"))
    native_, origin = _probe(tmp_path)
    assert native_ == "True" and origin.endswith(".so")
    merge = tmp_path / "sync" / "merge.py"
    merge.write_text(merge.read_text() + "\nEDITED = True\n")
    native_, origin = _probe(tmp_path)
    assert (native_, origin) == ("False", "merge.py")
    out = subprocess.run([sys.executable, "-c", "import sync.merge, sync.batch; print(sync.merge.EDITED, "
                          "sync.batch.__spec__.origin.endswith('.py'))"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(tmp_path), "DOORSTEP_PURE": ""})
    assert out.stdout.split() == ["True", "True"], out.stderr  # the edit runs, and no module of the build


def test_a_build_for_another_interpreter_is_not_used(built: None, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "sync", tmp_path / "sync", ignore=shutil.ignore_patterns("__pycache__", "engine__mypyc*"))
    assert _probe(tmp_path) == ("False", "merge.py")


def test_doorstep_pure_runs_the_interpreted_engine(built: None) -> None:
    assert _probe(ROOT, DOORSTEP_PURE="1") == ("False", "merge.py")


@pytest.mark.slow
def test_the_interpreted_engine_passes_the_engine_tests() -> None:
    """The rest of tests/sync (the golden vectors among them) on the interpreted engine, this
    file's first test checking that it is; the main run tests the compiled one where it is built."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sync", "--deselect",
                          "tests/sync/test_native.py::test_the_interpreted_engine_passes_the_engine_tests"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "DOORSTEP_PURE": "1"})
    assert out.returncode == 0, out.stdout[-3000:]
    assert " passed" in out.stdout.splitlines()[-1] and "failed" not in out.stdout.splitlines()[-1]
