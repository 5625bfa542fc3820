"""The service worker's cache name follows the shell's contents (server/pwa_shell.py)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from server.app import PWA_DIR
from server.pwa_shell import WorkerCache, shell_files, stamped_worker

VERSION = re.compile(r"const VERSION = '(doorstep-shell-[^']*)';")
HASHES = re.compile(r"const HASHES = (\{[^}]*\});")


def version_of(body: bytes) -> str:
    found = VERSION.search(body.decode())
    assert found, "no VERSION in the served worker"
    return found.group(1)


@pytest.fixture
def pwa_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PWA_DIR, tmp_path / "pwa", ignore=shutil.ignore_patterns("node_modules")))


def test_the_served_worker_carries_a_content_hash_and_is_otherwise_the_file(client) -> None:
    r = client.get("/app/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in r.headers["cache-control"]
    version = version_of(r.content)
    assert re.fullmatch(r"doorstep-shell-[0-9a-f]{16}", version)
    source = (PWA_DIR / "sw.js").read_text(encoding="utf-8")
    assert HASHES.sub("", VERSION.sub("", r.text)) == HASHES.sub("", VERSION.sub("", source))
    assert version != version_of(source.encode())  # the file's own placeholder is replaced


def test_the_served_worker_knows_each_shell_files_own_hash(client) -> None:
    """What lets the worker take a file the page has just loaded from the HTTP cache: only
    when its bytes are this release's (pwa/sw.js, fetchOnce)."""
    served = client.get("/app/sw.js").text
    hashes = json.loads(HASHES.search(served).group(1))
    source = (PWA_DIR / "sw.js").read_text(encoding="utf-8")
    assert HASHES.search(source).group(1) == "{}"  # the file itself has none
    assert set(hashes) == set(shell_files(source))
    for name, digest in hashes.items():
        body = (PWA_DIR / ("index.html" if name == "./" else name)).read_bytes()
        assert digest == hashlib.sha256(body).hexdigest()[:16], name


def test_changing_any_shell_file_changes_the_version_and_nothing_else_does(pwa_copy: Path) -> None:
    before = version_of(stamped_worker(pwa_copy))
    assert version_of(stamped_worker(pwa_copy)) == before  # stable for the same files
    listed = shell_files((pwa_copy / "sw.js").read_text(encoding="utf-8"))
    assert "app.css" in listed and "views/visit.js" in listed and "icons/icon-192.png" in listed
    for name in ("app.css", "views/visit.js", "index.html", "icons/icon-192.png", "sw.js"):
        path = pwa_copy / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert version_of(stamped_worker(pwa_copy)) != before, name
        path.write_bytes(original)
        assert version_of(stamped_worker(pwa_copy)) == before, name
    (pwa_copy / "package.json").write_text('{"changed": true}')  # not part of the shell
    assert version_of(stamped_worker(pwa_copy)) == before


def test_the_cache_notices_an_edit_without_a_restart(pwa_copy: Path) -> None:
    cache = WorkerCache(pwa_copy)
    first = version_of(cache.body())
    css = pwa_copy / "app.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* edited */\n", encoding="utf-8")
    stat = css.stat()
    os.utime(css, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert version_of(cache.body()) != first


def test_a_shell_file_missing_from_the_release_is_an_error_not_a_stale_version(pwa_copy: Path) -> None:
    (pwa_copy / "views" / "pin.js").unlink()
    with pytest.raises(FileNotFoundError):
        stamped_worker(pwa_copy)
