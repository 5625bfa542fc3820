"""Sign-in, the session cookie, idle expiry, sign-out and throttling of the office pages."""
from __future__ import annotations

import hashlib

from starlette.testclient import TestClient

from server.app import create_app
from tests.conftest import PASSWORD

from .conftest import OfficePage, csrf_of


def test_unsigned_visitor_is_sent_to_sign_in_with_the_page_to_return_to(client):
    r = client.get("/office/visits?concern=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/office/login?next=%2Foffice%2Fvisits%3Fconcern%3D1"


def test_office_sign_in_sets_a_strict_http_only_cookie_and_returns_to_next(client, make_user):
    user = make_user("office")
    token = csrf_of(client.get("/office/login").text)
    r = client.post("/office/login", data={"csrf_token": token, "username": user["username"],
                                           "password": PASSWORD, "next": "/office/cases"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/office/cases"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("doorstep_office="))
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "samesite=strict" in attrs and "path=/office" in attrs
    assert "secure" not in attrs  # plain http
    assert client.get("/office/cases").status_code == 200


def test_cookie_is_secure_over_tls(app_state, make_user):
    user = make_user("admin")
    with TestClient(create_app(app_state=app_state), base_url="https://testserver") as c:
        login = c.get("/office/login")
        assert "secure" in [a.strip().lower() for a in login.headers["set-cookie"].split(";")]
        r = c.post("/office/login", data={"csrf_token": csrf_of(login.text), "username": user["username"],
                                          "password": PASSWORD}, follow_redirects=False)
        cookie = next(x for x in r.headers.get_list("set-cookie") if x.startswith("doorstep_office="))
        assert "secure" in [a.strip().lower() for a in cookie.split(";")]


def test_officer_sign_in_is_refused_and_gets_no_session(client, make_user):
    officer = make_user("officer")
    page = OfficePage(client, officer)
    r = page.sign_in()
    assert r.status_code == 403
    assert "for office and admin staff" in r.text
    assert not any(c.startswith("doorstep_office=") for c in r.headers.get_list("set-cookie"))
    assert client.get("/office/", follow_redirects=False).status_code == 303


def test_admin_may_sign_in(office_page):
    page = office_page("admin")
    assert page.get("/office/").status_code == 200


def test_wrong_password_and_unknown_user_are_refused_alike(client, make_user):
    user = make_user("office")
    wrong = OfficePage(client, user).sign_in("not the password")
    unknown = OfficePage(client, {"username": "nobody-here"}).sign_in()
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an account" in wrong.text and "do not match an account" in unknown.text


def test_sign_in_is_throttled_after_repeated_failures(client, make_user):
    user = make_user("office")
    page = OfficePage(client, user)
    for _ in range(5):
        assert page.sign_in("wrong password!").status_code == 401
    r = page.sign_in()  # even the right password, until the window passes
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert int(r.headers["retry-after"]) > 0


def test_sign_in_refuses_a_form_without_its_csrf_token(client, make_user):
    user = make_user("office")
    client.get("/office/login")
    r = client.post("/office/login", data={"username": user["username"], "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/office/login", data={"csrf_token": "x" * 43, "username": user["username"],
                                           "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_next_never_leaves_the_office_pages(client, make_user):
    user = make_user("office")
    token = csrf_of(client.get("/office/login").text)
    for target in ("//evil.example/", "https://evil.example/", "/api/devices", "/office\\..\\x"):
        client.cookies.clear()
        token = csrf_of(client.get("/office/login").text)
        r = client.post("/office/login", data={"csrf_token": token, "username": user["username"],
                                               "password": PASSWORD, "next": target}, follow_redirects=False)
        assert r.headers["location"] == "/office/", target


def test_only_a_hash_of_the_session_id_is_stored(client, make_user, app_state):
    user = make_user("office")
    OfficePage(client, user).sign_in()
    cookie = client.cookies.get("doorstep_office")
    rows = app_state.db.query("SELECT id_hash FROM office_sessions WHERE user_id = ?", (user["id"],))
    assert [r["id_hash"] for r in rows] == [hashlib.sha256(cookie.encode()).hexdigest()]


def test_an_idle_session_expires(office_page, app_state):
    page = office_page()
    with app_state.db.write() as txn:
        txn.execute("UPDATE office_sessions SET last_seen_at = last_seen_at - 31 * 60")
    r = page.get("/office/visits")
    assert r.status_code == 303 and r.headers["location"].startswith("/office/login")
    assert app_state.db.query("SELECT count(*) AS n FROM office_sessions")[0]["n"] == 0


def test_sign_out_ends_the_session(office_page, app_state):
    page = office_page()
    old_cookie = page.client.cookies.get("doorstep_office")
    r = page.post("/office/logout")
    assert r.status_code == 303 and r.headers["location"] == "/office/login?signed_out=1"
    assert page.get("/office/").status_code == 303
    page.client.cookies.set("doorstep_office", old_cookie, path="/office")  # replaying the old cookie
    assert page.get("/office/").status_code == 303
    audit = app_state.db.query("SELECT action FROM audit WHERE user_id = ? ORDER BY id", (page.user["id"],))
    assert [a["action"] for a in audit] == ["office_sign_in", "office_sign_out"]


def test_a_user_demoted_to_officer_loses_the_office(office_page, app_state):
    page = office_page()
    with app_state.db.write() as txn:
        txn.execute("UPDATE users SET role = 'officer' WHERE id = ?", (page.user["id"],))
    r = page.get("/office/")
    assert r.status_code == 403


def test_signed_in_visitor_skips_the_sign_in_form(office_page):
    page = office_page()
    r = page.get("/office/login")
    assert r.status_code == 303 and r.headers["location"] == "/office/"
