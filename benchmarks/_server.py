"""A server started by a benchmark: a free port, the process (stopped by its process group)
and ``doorstep serve`` on a database, from this checkout or ``SERVER_ROOT``.

Everything runs on 127.0.0.1; every wait is bounded by a timeout.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from _workload import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A server started by us, stopped by its PID (its process group)."""

    def __init__(self, argv: list[str], health_url: str, log_path: str, env: dict[str, str] | None = None,
                 cwd: Path | str = ROOT) -> None:
        self.argv, self.health_url, self.log_path = argv, health_url, log_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Process:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited with {self.proc.returncode}: "
                                   + Path(self.log_path).read_text(errors="replace")[-2000:])
            try:
                if httpx.get(self.health_url, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.health_url} did not answer in {timeout} s")

    def cpu_seconds(self) -> float:
        """User + system CPU of every live process in the server's process group."""
        if self.proc is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group we started: uvicorn and its workers
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Process:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SERVER_ROOT = [ROOT]  # the checkout whose server runs (``--server-root``: measure another version)


def doorstep_server(db: str, workers: int = 1, port: int | None = None,
                    env: dict[str, str] | None = None) -> Process:
    port = port or free_port()
    argv = [sys.executable, "-m", "server.cli", "--db", db, "serve", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers)]
    proc = Process(argv, f"http://127.0.0.1:{port}/api/health", f"{db}.server.log",
                   {"PYTHONPATH": str(SERVER_ROOT[0]), **(env or {})}, cwd=SERVER_ROOT[0])
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return proc
