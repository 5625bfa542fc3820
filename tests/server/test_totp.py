"""The second factor: TOTP against RFC 4226 and RFC 6238's own test vectors, and sign-in through
``POST /api/auth/login`` with ``totp_code`` (docs/users.md). Users set up a second factor through
the office's page, as staff do."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.identity import totp
from server.identity.accounts import add_user
from server.state import open_state
from tests.conftest import PASSWORD
from tests.office.conftest import OfficePage, csrf_of
from tests.server.auth_helpers import assert_error

RFC_KEY = b"12345678901234567890"


# -- the algorithm -----------------------------------------------------------------------------

def test_hotp_matches_rfc_4226_appendix_d():
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
                "520489"]
    assert [totp.hotp(RFC_KEY, counter) for counter in range(10)] == expected


@pytest.mark.parametrize("unix_time,code", [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
                                            (1234567890, "89005924"), (2000000000, "69279037"),
                                            (20000000000, "65353130")])
def test_totp_matches_rfc_6238_appendix_b_sha1(unix_time, code):
    assert totp.hotp(RFC_KEY, totp.step_at(unix_time), digits=8) == code


def test_the_secret_the_uri_and_the_code_agree():
    secret = totp.new_secret()
    assert len(secret) == 32 and secret.isalnum()  # 160 bits, base32, no padding
    link = urlparse(totp.uri(secret, "office one"))
    assert (link.scheme, link.netloc, link.path) == ("otpauth", "totp", "/Doorstep%3Aoffice%20one")
    assert {k: v[0] for k, v in parse_qs(link.query).items()} == {
        "secret": secret, "issuer": "Doorstep", "algorithm": "SHA1", "digits": "6", "period": "30"}
    now = 1_800_000_000.0
    code = totp.code_at(totp.grouped(secret), totp.step_at(now))  # typed with spaces, as shown
    assert totp.matching_step(secret, code, now) == totp.step_at(now)
    assert totp.matching_step(secret, code, now + 30) == totp.step_at(now)  # one step of drift
    assert totp.matching_step(secret, code, now + 90) is None


@pytest.mark.parametrize("typed,clean", [("123 456", "123456"), ("123-456", "123456"), ("12345", None),
                                         ("1234567", None), ("12345a", None), ("١٢٣٤٥٦", None), (123456, None)])
def test_codes_are_six_ascii_digits(typed, clean):
    assert totp.normalise(typed) == clean


# -- sign-in through the API -----------------------------------------------------------------------

@pytest.fixture
def strict(db_path) -> Iterator[TestClient]:
    """A server with DOORSTEP_REQUIRE_TOTP on."""
    st = open_state(Settings(db_path=db_path, require_totp=True))
    with TestClient(create_app(app_state=st), raise_server_exceptions=False) as client:
        client.app_state = st  # type: ignore[attr-defined]
        yield client
    st.db.close()


def login(client: TestClient, username: str, code: Any = None) -> Any:
    body = {"username": username, "password": PASSWORD, "device_name": "laptop"}
    if code is not None:
        body["totp_code"] = code
    return client.post("/api/auth/login", json=body)


def enrol(client: TestClient, username: str) -> str:
    """Set up a second factor on the office's page, as the user would; the secret."""
    page = OfficePage(client, {"username": username})
    r = page.sign_in()
    assert r.status_code == 303
    if r.headers["location"].startswith("/office/login/code"):  # the setting: set up at sign-in
        html = client.get(r.headers["location"]).text
        secret = secret_on(html)
        r = client.post("/office/login/code", data={"csrf_token": csrf_of(html), "code": now_code(secret)},
                        follow_redirects=False)
    else:  # on the account page, by choice
        page.post("/office/account/second-factor", {"action": "start"})
        secret = secret_on(page.get("/office/account/second-factor").text)
        r = page.post("/office/account/second-factor", {"code": now_code(secret)})
    assert r.status_code == 303, r.text
    client.cookies.clear()
    return secret


def secret_on(html: str) -> str:
    return html.split("data-secret>")[1].split("<")[0].replace(" ", "")


def now_code(secret: str, steps: int = 0) -> str:
    return totp.code_at(secret, totp.step_at(time.time()) + steps)


def test_with_the_setting_office_staff_must_set_one_up_and_officers_are_not_asked(strict):
    st = strict.app_state
    add_user(st.db, "clerk", PASSWORD, "office")
    add_user(st.db, "walker", PASSWORD, "officer")
    err = assert_error(login(strict, "clerk"), 403, "totp_enrolment_required")
    assert "/office/" in err["message"]
    assert login(strict, "walker").status_code == 200  # officers: device + PIN


def test_a_code_is_asked_for_checked_and_accepted_once(strict):
    st = strict.app_state
    add_user(st.db, "clerk", PASSWORD, "office")
    secret = enrol(strict, "clerk")  # the setting: the office's sign-in asks for it first

    assert_error(login(strict, "clerk"), 401, "totp_required")
    assert_error(login(strict, "clerk", ""), 401, "totp_required")
    wrong = "000000" if now_code(secret, 1) != "000000" else "111111"
    err = assert_error(login(strict, "clerk", wrong), 401, "totp_invalid")
    assert err["details"]["attempts_left"] == 4
    assert_error(login(strict, "clerk", "12ab56"), 401, "totp_invalid")
    assert_error(login(strict, "clerk", 123456), 422, "validation_failed")
    code = now_code(secret, 1)  # the next step's code: the set-up used this one
    r = login(strict, "clerk", code)
    assert r.status_code == 200, r.text
    assert_error(login(strict, "clerk", code), 401, "totp_invalid")  # never twice


def test_wrong_codes_stop_the_code_step_for_a_while(strict):
    st = strict.app_state
    add_user(st.db, "clerk", PASSWORD, "admin")
    secret = enrol(strict, "clerk")
    good = {now_code(secret, s) for s in (-1, 0, 1)}
    wrongs = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in good][:5]
    for code in wrongs:
        assert_error(login(strict, "clerk", code), 401, "totp_invalid")
    r = login(strict, "clerk", now_code(secret, 1))  # even the right code waits now
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0


def test_without_the_setting_only_users_who_set_one_up_are_asked(client, app_state):
    add_user(app_state.db, "clerk", PASSWORD, "office")
    add_user(app_state.db, "boss", PASSWORD, "admin")
    assert login(client, "boss").status_code == 200  # the demo and every existing login: unchanged
    secret = enrol(client, "clerk")
    assert_error(login(client, "clerk"), 401, "totp_required")
    assert login(client, "clerk", now_code(secret, 1)).status_code == 200


def test_an_admin_made_an_officer_is_not_asked_for_a_code(client, app_state, db_path, capsys):
    from server.cli import main

    add_user(app_state.db, "boss", PASSWORD, "admin")
    add_user(app_state.db, "other", PASSWORD, "admin")
    secret = enrol(client, "boss")
    assert_error(login(client, "boss"), 401, "totp_required")
    assert main(["--db", db_path, "user", "set-role", "boss", "officer"]) == 0
    assert login(client, "boss").status_code == 200  # the field app has no code step
    assert main(["--db", db_path, "user", "set-role", "boss", "admin"]) == 0
    assert_error(login(client, "boss"), 401, "totp_required")
    assert login(client, "boss", now_code(secret, 1)).status_code == 200
