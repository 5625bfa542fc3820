"""Behind a TLS proxy (docs/deploy.md), against real ``doorstep serve`` processes: the
forwarded headers are believed only from ``DOORSTEP_FORWARDED_ALLOW_IPS``, and
``DOORSTEP_SECURE_COOKIES`` makes the office's cookies Secure whatever a request says."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def cookie_is_secure(server: LiveServer, headers: dict[str, str]) -> bool:
    """Whether the sign-in form's cookie comes back marked Secure."""
    r = httpx.get(server.url + "/office/login", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    values = r.headers.get_list("set-cookie")
    assert values, "the sign-in form sets its CSRF cookie"
    flags = {("secure" in [a.strip().lower() for a in v.split(";")]) for v in values}
    assert len(flags) == 1, values
    return flags.pop()


@pytest.fixture
def serve(tmp_path, monkeypatch) -> Iterator:  # noqa: ANN001 - pytest's own fixtures
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        for name in ("DOORSTEP_FORWARDED_ALLOW_IPS", "DOORSTEP_SECURE_COOKIES"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        server = LiveServer(str(tmp_path / f"doorstep{len(started)}.db"))
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def test_by_default_only_a_proxy_on_this_machine_is_believed(serve) -> None:  # noqa: ANN001
    server = serve()
    assert not cookie_is_secure(server, {})  # plain http, no proxy: no Secure (a developer's laptop)
    assert cookie_is_secure(server, PROXIED)  # from 127.0.0.1 saying it was https


@pytest.mark.parametrize("allowed", ["", "10.1.2.3"])
def test_forwarded_headers_from_anyone_else_are_ignored(serve, allowed: str) -> None:  # noqa: ANN001
    server = serve(DOORSTEP_FORWARDED_ALLOW_IPS=allowed)
    assert not cookie_is_secure(server, PROXIED)


def test_secure_cookies_setting_holds_whatever_the_request_says(serve) -> None:  # noqa: ANN001
    server = serve(DOORSTEP_SECURE_COOKIES="1", DOORSTEP_FORWARDED_ALLOW_IPS="")
    assert cookie_is_secure(server, {})
    assert cookie_is_secure(server, {"X-Forwarded-Proto": "http"})


def test_a_misspelt_switch_stops_the_server(serve) -> None:  # noqa: ANN001
    with pytest.raises(RuntimeError, match="DOORSTEP_SECURE_COOKIES='ture'"):
        serve(DOORSTEP_SECURE_COOKIES="ture")
