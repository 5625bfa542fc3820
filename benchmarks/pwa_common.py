"""What the PWA benchmarks share: Debian's Chromium, a demo server for this checkout or for an
older commit (a ``git worktree`` of it in a temporary folder, served by its own server), and
signing officer1 in.

    with demo_server(tmp) as base: ...                 # this checkout
    with demo_server(tmp, ref="50137d6") as base: ...  # that commit's server and PWA
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import ROOT, Process, free_port

CHROMIUM = "/usr/bin/chromium"
HERMETIC = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
USER = "officer1"
PIN = "482915"


@contextlib.contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A detached ``git worktree`` of ``ref`` in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="doorstep-ref-"))
    path = folder / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(path), ref], check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False)
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def demo_server(tmp: str, ref: str | None = None) -> Iterator[str]:
    """``doorstep serve --demo`` (real uvicorn) on a temporary SQLite database: of this checkout,
    or of commit ``ref``. Yields the base URL."""
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(worktree(ref)) if ref else ROOT
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        name = (ref or "work").replace("/", "_")
        stack.enter_context(Process(
            [sys.executable, "-m", "server.cli", "--db", f"{tmp}/{name}.db", "serve",
             "--host", "127.0.0.1", "--port", str(port), "--demo"],
            base + "/api/health", f"{tmp}/{name}.server.log", env={"PYTHONPATH": str(root)}, cwd=root))
        yield base


def require_chromium() -> bool:
    if Path(CHROMIUM).exists():
        return True
    print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
    return False


def sign_in(page: Any, user: str = USER) -> None:
    """Fill in and press Sign in (the caller times what follows)."""
    from fixtures.demo import DEMO_PASSWORD

    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(DEMO_PASSWORD[user])
    page.get_by_role("button", name="Sign in").click()


def set_pin(page: Any, pin: str = PIN) -> None:
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_label("Confirm PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Set PIN").click()
