"""The registry of authorities: ``DIR/authorities.json``, one entry per authority, each with its
own database and the host names it answers on. The database is ``DIR/NAME.db`` (SQLite), or the
PostgreSQL database the entry's ``db`` names (``postgresql://user@host:port/dbname``: never a
password, which comes from ``PGPASSWORD``/``PGPASSFILE``/``~/.pgpass``; docs/postgresql.md).

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

from ..state import is_url

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
    db_path: str  # DIR/NAME.db, or the PostgreSQL database's URL (``db`` in the registry)

    @property
    def url(self) -> str | None:
        """The PostgreSQL database's URL; None for a SQLite file."""
        return self.db_path if is_url(self.db_path) else None


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


def check_url(url: str) -> str:
    """A PostgreSQL database URL with no password in it (the registry is a file others read)."""
    if not is_url(url):
        raise RegistryError(f"{url!r} is not a PostgreSQL database URL (postgresql://user@host:port/dbname); "
                            "without --db the authority's database is DIR/NAME.db")
    try:
        from ..pg import refuse_password
    except ImportError:
        raise RegistryError("a PostgreSQL database needs psycopg 3: pip install '.[pg]'") from None
    try:
        refuse_password(url)
    except SystemExit as exc:  # its message names no part of the URL
        raise RegistryError(str(exc)) from None
    return url


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
            url = entry.get("db")
            try:
                where = db_path(directory, name) if url is None else check_url(url)
            except RegistryError as exc:
                raise RegistryError(f"{path}: authority {name}: {exc}") from None
            out.append(Authority(name, hosts, where))
    except (KeyError, TypeError, AttributeError) as exc:
        raise RegistryError(f"{path} is not a registry of authorities ({exc!r})") from None
    if len({a.name for a in out}) != len(out):
        raise RegistryError(f"{path} names an authority twice")
    urls = [a.url for a in out if a.url]
    if len(set(urls)) != len(urls):
        raise RegistryError(f"{path} names a PostgreSQL database for two authorities")
    return out


def save(directory: str | Path, authorities: list[Authority]) -> None:
    """Write the registry atomically: readers see the old file or the new one, never half."""
    directory = Path(directory)
    entries = [{"name": a.name, "hosts": list(a.hosts), **({"db": a.url} if a.url else {})} for a in authorities]
    body = json.dumps({"authorities": entries}, indent=2) + "\n"
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


def refuse_clash(authorities: list[Authority], name: str, hosts: list[str], url: str | None = None) -> None:
    """A name, host or PostgreSQL database already registered, or a host given twice, is refused
    (two authorities in one database would each see the other's data)."""
    if any(a.name == name for a in authorities):
        raise RegistryError(f"authority {name} already exists")
    for a in authorities:
        if url is not None and a.url == url:
            raise RegistryError(f"the database {url} already belongs to authority {a.name}")
    owners = {h: a.name for a in authorities for h in a.hosts}
    for host in hosts:
        if host in owners:
            raise RegistryError(f"host {host} already belongs to authority {owners[host]}")
    if len(set(hosts)) != len(hosts):
        raise RegistryError("a host is given twice")
