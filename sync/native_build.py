"""``python -m sync.native_build``: compile the engine with mypyc (``sync/native.py`` says
when the build is used). Run by ``.ci/setup``; needs the ``native`` extra (mypy, setuptools).
"""
from __future__ import annotations

import json
import os
import warnings

from .native import COMPILED, GROUP, HERE, LIBRARY, MANIFEST, built_here, sources_hash


def build() -> bool:
    """Compile the engine (about a minute) unless the build of these sources is there already.
    False when mypyc is not installed: the engine then runs interpreted."""
    if built_here():
        print("sync.native: the compiled engine is current")
        return True
    try:
        from mypyc.build import mypycify
        from setuptools import setup  # type: ignore[import-untyped]
    except ImportError:
        print("sync.native: mypyc is not installed (pip install -e '.[native]'); the engine runs interpreted")
        return False
    MANIFEST.unlink(missing_ok=True)
    for name in (*COMPILED, LIBRARY):  # unlinked, not overwritten: a running server keeps its copy mapped
        for old in HERE.glob(f"{name}.*.so"):
            old.unlink()
    root = HERE.parent
    digest = sources_hash()
    cwd = os.getcwd()
    os.chdir(root)  # mypycify and build_ext --inplace work from the project's root
    try:
        modules = mypycify([f"sync/{n}.py" for n in COMPILED], opt_level="3", group_name=GROUP)
        with warnings.catch_warnings():  # setuptools reads pyproject.toml and calls some of it beta
            warnings.simplefilter("ignore")
            setup(name="doorstep-engine", ext_modules=modules,
                  script_args=["-q", "build_ext", "--inplace", "--build-temp", "build/native"])
    finally:
        os.chdir(cwd)
    if sources_hash() != digest:  # edited while compiling: this build is of neither
        print("sync.native: the sources changed during the build; run it again")
        return False
    MANIFEST.write_text(json.dumps({"sources": digest}) + "\n")
    print("sync.native: compiled the engine")
    return True


if __name__ == "__main__":
    raise SystemExit(0 if build() else 1)
