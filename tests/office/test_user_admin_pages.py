"""The admin's users pages, the office's second-factor steps and the reset-password page, through
HTTP as a browser sends them (docs/users.md)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.identity import totp
from server.identity.accounts import add_user
from server.state import open_state
from tests.conftest import PASSWORD
from tests.office.conftest import OfficePage, csrf_of, text_of


def audit_of(db: Any, user_id: str, action: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT a.user_id, a.detail FROM audit a JOIN audit_entities e ON e.audit_id = a.id "
                    "WHERE e.entity_id = ? AND a.action = ? ORDER BY a.id", (user_id, action))
    return [{**r, "detail": orjson.loads(r["detail"])} for r in rows]


@pytest.fixture
def office_page(client: TestClient, make_user) -> Any:
    """Factory: office_page(role) → an OfficePage of a new user of that role, in a browser of its own."""

    def make(role: str = "office") -> OfficePage:
        page = OfficePage(TestClient(client.app, raise_server_exceptions=False), make_user(role))
        assert page.sign_in().status_code == 303
        return page

    return make


def test_only_admins_see_and_use_the_users_pages(office_page, make_user):
    office = office_page("office")
    assert office.get("/office/users").status_code == 403
    assert 'href="/office/users"' not in office.get("/office/").text
    target = make_user("officer")
    assert office.post(f"/office/users/{target['id']}/deactivate", {"confirm": "yes"}).status_code == 403

    admin = office_page("admin")
    r = admin.get("/office/users")
    assert r.status_code == 200 and 'href="/office/users" aria-current="page"' in r.text
    assert f'data-user="{target["id"]}"' in r.text and target["username"] in r.text
    assert admin.get("/office/users/not-a-uuid").status_code == 404
    assert admin.get("/office/users/00000000-0000-4000-8000-000000000000").status_code == 404


def test_admin_renames_and_changes_a_role_audited(office_page, make_user, app_state):
    admin = office_page("admin")
    target = make_user("officer")
    url = f"/office/users/{target['id']}"
    r = admin.post(url + "/rename", {"display_name": "Amira Khan"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=rename"
    assert "Amira Khan" in admin.get(url).text
    assert admin.post(url + "/role", {"role": "office"}).status_code == 303
    assert "office" in text_of(admin.get(url).text)
    bad = admin.post(url + "/role", {"role": "superuser"})
    assert bad.status_code == 422 and "Role must be one of officer, office, admin." in text_of(bad.text)
    [rename] = audit_of(app_state.db, target["id"], "user_rename")
    assert rename["user_id"] == admin.user["id"] and rename["detail"]["via"] == "office"
    assert audit_of(app_state.db, target["id"], "user_role_change")[0]["detail"]["to"] == "office"
    # the user's page links to the audit log for their id, which lists what was done
    assert f'href="/office/audit?entity={target["id"]}"' in admin.get(url).text
    assert "user_rename" in admin.get("/office/audit", entity=target["id"]).text


def test_deactivating_asks_first_then_ends_the_users_office_session(office_page, client, app_state):
    admin = office_page("admin")
    clerk = office_page("office")
    url = f"/office/users/{clerk.user['id']}"

    confirm = admin.post(url + "/deactivate", {"reason": "Left the authority"})
    assert confirm.status_code == 200 and "Deactivate" in confirm.text and "Yes, deactivate" in confirm.text
    assert admin.get(url).text.count("data-status>Active<") == 1  # nothing done yet
    r = admin.post(url + "/deactivate", {"reason": "Left the authority", "confirm": "yes"})
    assert r.status_code == 303
    assert "data-status>Deactivated<" in admin.get(url).text
    [entry] = audit_of(app_state.db, clerk.user["id"], "user_deactivate")
    assert entry["detail"]["reason"] == "Left the authority" and entry["user_id"] == admin.user["id"]

    assert clerk.get("/office/").status_code == 303  # signed out at once: to the sign-in page
    assert OfficePage(TestClient(client.app), clerk.user).sign_in().status_code == 401

    assert admin.post(url + "/reactivate").status_code == 303
    assert OfficePage(TestClient(client.app), clerk.user).sign_in().status_code == 303


def test_an_admin_cannot_deactivate_or_demote_themselves(office_page):
    admin = office_page("admin")
    url = f"/office/users/{admin.user['id']}"
    page = admin.get(url).text
    assert "/deactivate" not in page and "/role" not in page
    r = admin.post(url + "/deactivate", {"confirm": "yes"})
    assert r.status_code == 409 and "your own account" in text_of(r.text)


def test_a_reset_code_is_shown_once_and_exchanged_on_the_reset_page(office_page, make_user, client, app_state):
    admin = office_page("admin")
    target = make_user("officer")
    url = f"/office/users/{target['id']}"
    r = admin.post(url + "/reset-password")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    code = r.text.split('id="reset-code">')[1].split("<")[0]
    assert len(code) == 19 and code.count("-") == 3
    assert code not in admin.get(url).text  # shown once
    assert audit_of(app_state.db, target["id"], "user_password_reset_issued")

    browser = TestClient(client.app)
    form = browser.get("/office/reset-password").text
    token = csrf_of(form)
    body = {"csrf_token": token, "username": target["username"], "code": code, "new_password": "a-fresh-password",
            "new_password_again": "not-the-same"}
    assert browser.post("/office/reset-password", data=body).status_code == 422
    wrong = browser.post("/office/reset-password", data={**body, "code": "AAAA-AAAA-AAAA-AAAA",
                                                          "new_password_again": "a-fresh-password"})
    assert wrong.status_code == 401 and "wrong, used or expired" in text_of(wrong.text)
    assert browser.post("/office/reset-password", data={**body, "csrf_token": "forged"}).status_code == 403
    done = browser.post("/office/reset-password", data={**body, "new_password_again": "a-fresh-password"},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/office/reset-password?done=1"
    r = client.post("/api/auth/login", json={"username": target["username"], "password": "a-fresh-password",
                                              "device_name": "phone"})
    assert r.status_code == 200


# -- the second factor in the office ---------------------------------------------------------------

@pytest.fixture
def strict(db_path) -> Iterator[TestClient]:
    st = open_state(Settings(db_path=db_path, require_totp=True))
    with TestClient(create_app(app_state=st), raise_server_exceptions=False) as c:
        c.app_state = st  # type: ignore[attr-defined]
        yield c
    st.db.close()


def code_now(secret: str, steps: int = 0) -> str:
    return totp.code_at(secret, totp.step_at(time.time()) + steps)


def test_with_the_setting_office_sign_in_sets_up_then_asks_for_a_code(strict):
    st = strict.app_state
    user = add_user(st.db, "clerk", PASSWORD, "office").as_dict()
    assert strict.get("/office/login/code", follow_redirects=False).headers["location"] == "/office/login"

    r = OfficePage(strict, user).sign_in()
    assert r.status_code == 303 and r.headers["location"].startswith("/office/login/code")
    assert "doorstep_office" not in strict.cookies  # no session yet
    assert strict.get("/office/", follow_redirects=False).status_code == 303
    setup = strict.get(r.headers["location"])
    assert setup.headers["cache-control"] == "no-store" and "Set up a second factor" in setup.text
    secret = setup.text.split("data-secret>")[1].split("<")[0].replace(" ", "")
    uri = setup.text.split("data-otpauth>")[1].split("<")[0]
    assert uri.startswith("otpauth://totp/Doorstep%3Aclerk?") and f"secret={secret}" in uri
    token = csrf_of(setup.text)
    wrong = "000000" if "000000" not in {code_now(secret, s) for s in (-1, 0, 1)} else "111111"
    bad = strict.post("/office/login/code", data={"csrf_token": token, "code": wrong})
    assert bad.status_code == 401 and "wrong or was already used" in text_of(bad.text)
    ok = strict.post("/office/login/code", data={"csrf_token": token, "code": code_now(secret), "next": "/office/"},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/office/"
    assert strict.get("/office/").status_code == 200
    [entry] = st.db.query("SELECT detail FROM audit WHERE action = 'office_sign_in'")
    assert orjson.loads(entry["detail"])["second_factor"] == "enrolled"
    assert st.db.query("SELECT count(*) AS n FROM audit WHERE action = 'totp_enrolled'")[0]["n"] == 1

    strict.cookies.clear()  # next time: the code only, the secret is never shown again
    r = OfficePage(strict, user).sign_in()
    ask = strict.get(r.headers["location"])
    assert "Enter your code" in ask.text and secret[:8] not in ask.text.replace(" ", "")
    ok = strict.post("/office/login/code", data={"csrf_token": csrf_of(ask.text), "code": code_now(secret, 1)},
                     follow_redirects=False)
    assert ok.status_code == 303


def test_an_admin_resets_a_lost_second_factor(strict):
    st = strict.app_state
    admin = add_user(st.db, "boss", PASSWORD, "admin").as_dict()
    clerk = add_user(st.db, "clerk", PASSWORD, "office").as_dict()
    # the clerk sets one up through the sign-in step
    r = OfficePage(strict, clerk).sign_in()
    setup = strict.get(r.headers["location"]).text
    secret = setup.split("data-secret>")[1].split("<")[0].replace(" ", "")
    assert strict.post("/office/login/code", data={"csrf_token": csrf_of(setup), "code": code_now(secret)},
                       follow_redirects=False).status_code == 303
    strict.cookies.clear()
    # the admin too (the setting applies to admins), then resets the clerk's
    r = OfficePage(strict, admin).sign_in()
    setup = strict.get(r.headers["location"]).text
    boss_secret = setup.split("data-secret>")[1].split("<")[0].replace(" ", "")
    strict.post("/office/login/code", data={"csrf_token": csrf_of(setup), "code": code_now(boss_secret)})
    page = OfficePage(strict, admin)
    page.csrf = csrf_of(strict.get("/office/").text)
    assert "Set up" in strict.get("/office/users").text
    r = page.post(f"/office/users/{clerk['id']}/totp-reset")
    assert r.status_code == 303
    [entry] = audit_of(st.db, clerk["id"], "user_totp_reset")
    assert entry["user_id"] == admin["id"]
    strict.cookies.clear()
    # the clerk is asked to set up a new one; the old secret is gone
    r = OfficePage(strict, clerk).sign_in()
    assert "Set up a second factor" in strict.get(r.headers["location"]).text
