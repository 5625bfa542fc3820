"""Runs the PWA's JavaScript tests (HLC, outbox, sync engine, shell) with node's built-in runner."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PWA = Path(__file__).resolve().parent.parent / "pwa"


def test_node_tests_of_the_pwa_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the PWA's JS tests (node --test pwa/tests/) need Node.js 20+")
    proc = subprocess.run([node, "--test", "tests/"], cwd=PWA, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout, proc.stdout[-3000:]
