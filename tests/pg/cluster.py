"""A throwaway PostgreSQL cluster owned by the test run: ``initdb`` in a temporary directory, a
postmaster on a free local port, stopped by its PID afterwards. Never the system service."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def bindir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian: /usr/lib/postgresql/N/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def why_not() -> str | None:
    """Why a cluster cannot be started here (None: it can)."""
    if bindir() is None:
        return "PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run initdb as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class Cluster:
    base: Path
    port: int
    pid: int

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://doorstep@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        """Fast shutdown by PID (SIGINT), then the directory goes."""
        try:
            os.kill(self.pid, signal.SIGINT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                os.kill(self.pid, 0)
                time.sleep(0.05)
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(self.base, ignore_errors=True)


def start() -> Cluster:
    bin_ = bindir()
    assert bin_ is not None
    base = Path(tempfile.mkdtemp(prefix="doorstep-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    subprocess.run(_as_owner([str(bin_ / "initdb"), "-D", str(data), "--auth=trust", "--username=doorstep",
                              "--encoding=UTF8", "--locale=C", "--no-sync"]),
                   check=True, capture_output=True)
    subprocess.run(_as_owner([str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                              "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60",
                              "start"]), check=True, capture_output=True)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    return Cluster(base, port, pid)
