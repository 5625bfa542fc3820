"""The PWA's service worker, served with its cache name stamped from the shell's contents.

``pwa/sw.js`` precaches the files listed in its ``SHELL`` array under the cache
named by ``VERSION``. A phone only fetches a new shell when the worker's bytes
change, so the server replaces ``VERSION`` with a hash of the worker and every
shell file: any change to any of them installs a new shell, with nobody having
to remember to bump a number (docs/pwa.md).
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

_SHELL = re.compile(r"const SHELL = \[(.*?)\];", re.DOTALL)
_VERSION = re.compile(r"const VERSION = '[^']*';")
_HASHES = re.compile(r"const HASHES = \{[^}]*\};")
_PREFIX = "doorstep-shell-"  # pwa/db.js keeps caches with this prefix on a wipe


def shell_files(worker_source: str) -> list[str]:
    """The relative paths ``SHELL`` lists ('./' is the index page)."""
    block = _SHELL.search(worker_source)
    if block is None:
        raise ValueError("sw.js has no SHELL list")
    return re.findall(r"'([^']+)'", block.group(1))


def _file(pwa_dir: Path, name: str) -> Path:
    return pwa_dir / ("index.html" if name == "./" else name)


def stamped_worker(pwa_dir: Path) -> bytes:
    """``sw.js`` with ``VERSION`` set to a hash of itself and of every shell file, and ``HASHES``
    to each file's own SHA-256 (16 hex digits): the worker takes a file the page has just
    loaded from the HTTP cache when its bytes are these (pwa/sw.js, docs/pwa.md)."""
    source = (pwa_dir / "sw.js").read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode())
    hashes = {}
    for name in shell_files(source):
        body = _file(pwa_dir, name).read_bytes()  # a listed file that is missing is a broken release
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update(body)
        hashes[name] = hashlib.sha256(body).hexdigest()[:16]
    stamped, count = _VERSION.subn(f"const VERSION = '{_PREFIX}{digest.hexdigest()[:16]}';", source, count=1)
    if count != 1:
        raise ValueError("sw.js has no VERSION constant")
    stamped = _HASHES.sub(lambda _: f"const HASHES = {json.dumps(hashes, separators=(',', ':'))};", stamped, count=1)
    return stamped.encode()


class WorkerCache:
    """``stamped_worker`` recomputed only when a file's size or modification time changes."""

    def __init__(self, pwa_dir: Path) -> None:
        self.pwa_dir = pwa_dir
        self._lock = threading.Lock()
        self._key: tuple[tuple[str, int, int], ...] | None = None
        self._body = b""

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        worker = self.pwa_dir / "sw.js"
        names = ["sw.js", *shell_files(worker.read_text(encoding="utf-8"))]
        out = []
        for name in names:
            st = _file(self.pwa_dir, name).stat()
            out.append((name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def body(self) -> bytes:
        key = self._fingerprint()
        with self._lock:
            if key != self._key:
                self._body, self._key = stamped_worker(self.pwa_dir), key
            return self._body
