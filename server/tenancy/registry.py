"""The registry of authorities: ``DIR/authorities.json``, one entry per authority, each with its
own database ``DIR/NAME.db`` and the host names it answers on.

Written only by ``doorstep tenant add``, atomically (a temporary file in DIR, then a rename) and
under an exclusive lock on ``DIR/authorities.lock``, so two commands run at once never lose one
another's entry. Read by ``doorstep --tenants DIR serve`` at start.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "authorities.json"
LOCK = "authorities.lock"
NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


class RegistryError(Exception):
    """Something the operator must put right; the command says what and exits 2."""


@dataclass(frozen=True)
class Authority:
    name: str
    hosts: tuple[str, ...]
    db_path: str  # DIR/NAME.db


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise RegistryError(f"{name!r} is not an authority name: lower-case letters, digits and hyphens "
                            "(not at either end), at most 63 characters")
    return name


def normalise_host(host: str) -> str:
    """A host name as the dispatcher compares it: lower case, no port, no trailing dot."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):  # an IPv6 literal, [::1]:8000
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def check_host(host: str) -> str:
    name = host.strip().lower().rstrip(".")
    if len(name) > 253 or not HOST.fullmatch(name):
        raise RegistryError(f"{host!r} is not a host name (letters, digits, hyphens and dots; no port, no scheme)")
    return name


def db_path(directory: str | Path, name: str) -> str:
    return str(Path(directory) / f"{name}.db")


def load(directory: str | Path) -> list[Authority]:
    """The authorities, in the order they were added; [] when DIR holds no registry yet."""
    path = Path(directory) / REGISTRY
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise RegistryError(f"cannot read {path}: {exc}") from None
    out: list[Authority] = []
    seen: dict[str, str] = {}
    try:
        entries = raw["authorities"]
        for entry in entries:
            name = check_name(entry["name"])
            hosts = tuple(check_host(h) for h in entry["hosts"])
            for host in hosts:
                if seen.setdefault(host, name) != name:
                    raise RegistryError(f"{path}: host {host} is named by {seen[host]} and {name}")
            out.append(Authority(name, hosts, db_path(directory, name)))
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"{path} is not a registry of authorities ({exc!r})") from None
    if len({a.name for a in out}) != len(out):
        raise RegistryError(f"{path} names an authority twice")
    return out


def save(directory: str | Path, authorities: list[Authority]) -> None:
    """Write the registry atomically: readers see the old file or the new one, never half."""
    directory = Path(directory)
    body = json.dumps({"authorities": [{"name": a.name, "hosts": list(a.hosts)} for a in authorities]},
                      indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".authorities.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / REGISTRY)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


@contextmanager
def locked(directory: str | Path) -> Iterator[None]:
    """Hold the registry's lock: one ``tenant add`` or ``tenant migrate`` at a time."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def refuse_clash(authorities: list[Authority], name: str, hosts: list[str]) -> None:
    """A name or host already registered, or a host given twice, is refused."""
    if any(a.name == name for a in authorities):
        raise RegistryError(f"authority {name} already exists")
    owners = {h: a.name for a in authorities for h in a.hosts}
    for host in hosts:
        if host in owners:
            raise RegistryError(f"host {host} already belongs to authority {owners[host]}")
    if len(set(hosts)) != len(hosts):
        raise RegistryError("a host is given twice")
