"""User administration from the command line (``doorstep user …``, through ``server.cli.main``)
and its effects through the HTTP API: deactivate (a returned revoke of every phone), reactivate,
one-time password reset codes (``POST /api/auth/reset-password``), role change, rename and the
guards; every action audited (docs/users.md)."""
from __future__ import annotations

import re
import uuid
from typing import Any

import orjson
import pytest

from server.cli import main
from tests.conftest import PASSWORD
from tests.server.auth_helpers import assert_error, bearer, sign_in
from tests.server.test_device_status import note, pull, push, refresh

RESET = "/api/auth/reset-password"
CODE_RE = re.compile(r"^\s+([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})$", re.M)


def doorstep(db_path: str, *args: str, capsys: Any) -> tuple[int, str, str]:
    rc = main(["--db", db_path, *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def audit_of(app_state: Any, user_id: str) -> list[dict[str, Any]]:
    """The audit rows that name this user, oldest first (what ``GET /api/audit?entity_id=`` finds)."""
    rows = app_state.db.query("SELECT a.action, a.user_id, a.detail FROM audit a JOIN audit_entities e "
                              "ON e.audit_id = a.id WHERE e.entity_id = ? ORDER BY a.id", (user_id,))
    return [{**r, "detail": orjson.loads(r["detail"])} for r in rows]


def issue_code(db_path: str, username: str, capsys: Any) -> str:
    rc, out, err = doorstep(db_path, "user", "reset-password", username, capsys=capsys)
    assert rc == 0, err
    match = CODE_RE.search(out)
    assert match, out
    return match.group(1)


def test_user_list_shows_everyone_with_role_status_and_devices(db_path, login, make_user, capsys):
    officer = login("officer")
    office = make_user("office")
    assert doorstep(db_path, "user", "deactivate", office["username"], capsys=capsys)[0] == 0
    rc, out, _ = doorstep(db_path, "user", "list", capsys=capsys)
    assert rc == 0
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines[officer.user["username"]][1:5] == ["officer", "active", "no", "1"]
    assert lines[office["username"]][1:3] == ["office", "deactivated"]
    rc, out, _ = doorstep(db_path, "user", "list", "--show", "inactive", capsys=capsys)
    assert office["username"] in out and officer.user["username"] not in out


def test_deactivating_revokes_every_phone_as_returned_so_unsent_work_arrives_once(
        world, db_path, app_state, client, capsys):
    office, officer, ids = world
    second = sign_in(client, officer.user["username"], device="tablet")
    assert second.status_code == 200
    assert pull(officer, unsent=1).status_code == 200

    rc, out, err = doorstep(db_path, "user", "deactivate", officer.user["username"], "--reason", "Left in November",
                            capsys=capsys)
    assert rc == 0, err
    assert "2 devices revoked as returned" in out

    # at once: anything but the final push is refused, and the phone is told to push what it holds
    assert assert_error(pull(officer, unsent=1), 401, "device_revoked")["details"] == {
        "kind": "returned", "final_push": True}
    assert assert_error(sign_in(client, officer.user["username"]), 401, "unauthenticated")
    # its unsent note still arrives, once (a refresh first: its access token may have expired)
    assert refresh(officer, unsent=1).status_code == 200
    text = f"Written offline before leaving {uuid.uuid4()}"
    r = push(officer, [note(officer, ids["case"], text)], unsent=1)
    assert r.status_code == 200, r.text
    assert r.json()["final"] is True and r.json()["results"][0]["status"] == "applied"
    assert [c for c in office.pull_all()[0] if c["type"] == "note" and c["fields"].get("text") == text]
    # then it is over: the phone wipes
    for answer in (pull(officer), push(officer, []), refresh(officer)):
        assert assert_error(answer, 401, "device_revoked")["details"] == {"kind": "returned", "final_push": False}

    user_id = officer.user["id"]
    entries = audit_of(app_state, user_id)
    [deactivated] = [e for e in entries if e["action"] == "user_deactivate"]
    assert deactivated["user_id"] is None  # the command line
    assert deactivated["detail"]["via"] == "cli" and deactivated["detail"]["reason"] == "Left in November"
    assert sorted(deactivated["detail"]["devices_revoked"]) == sorted([officer.device_id, second.json()["device_id"]])
    revokes = app_state.db.query("SELECT detail FROM audit WHERE action = 'revoke_device'")
    assert len(revokes) == 2 and all(orjson.loads(r["detail"])["kind"] == "returned" for r in revokes)


def test_a_deactivated_user_is_refused_then_reactivated_signs_in_on_a_new_device(db_path, login, client, capsys):
    officer = login("officer")
    name = officer.user["username"]
    assert doorstep(db_path, "user", "deactivate", name, capsys=capsys)[0] == 0
    rc, _, err = doorstep(db_path, "user", "deactivate", name, capsys=capsys)
    assert rc == 1 and "already deactivated" in err
    assert_error(sign_in(client, name), 401, "unauthenticated")

    assert doorstep(db_path, "user", "reactivate", name, capsys=capsys)[0] == 0
    again = sign_in(client, name)
    assert again.status_code == 200 and again.json()["device_id"] != officer.device_id
    # the old phone stays revoked (it wiped)
    assert_error(client.get("/api/sync/pull", headers=bearer(officer.token)), 401, "device_revoked")


def test_a_reset_code_is_exchanged_once_for_a_password_the_user_chooses(db_path, app_state, client, make_user, capsys):
    user = make_user("officer")
    code = issue_code(db_path, user["username"], capsys)
    stored = app_state.db.query("SELECT code_hash FROM password_resets")
    assert len(stored) == 1 and code.replace("-", "") not in stored[0]["code_hash"]  # only a hash is kept

    wrong = {"username": user["username"], "code": "AAAA-BBBB-CCCC-DDDD", "new_password": "a-new-long-password"}
    assert_error(client.post(RESET, json=wrong), 401, "reset_code_invalid")
    short = {"username": user["username"], "code": code, "new_password": "short"}
    assert assert_error(client.post(RESET, json=short), 422, "validation_failed")["details"]["field"] == "new_password"
    other = make_user("officer")
    assert_error(client.post(RESET, json={**wrong, "username": other["username"], "code": code}), 401,
                 "reset_code_invalid")

    r = client.post(RESET, json={"username": user["username"], "code": code.lower().replace("-", " "),
                                 "new_password": "a-new-long-password"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "password_changed" and r.json()["user"]["id"] == user["id"]
    assert_error(sign_in(client, user["username"], PASSWORD), 401, "unauthenticated")
    assert sign_in(client, user["username"], "a-new-long-password").status_code == 200
    # spent
    again = {"username": user["username"], "code": code, "new_password": "yet-another-password"}
    assert_error(client.post(RESET, json=again), 401, "reset_code_invalid")

    actions = [e["action"] for e in audit_of(app_state, user["id"])]
    assert actions[:2] == ["user_password_reset_issued", "password_reset"]
    assert code not in str(app_state.db.query("SELECT detail FROM audit"))


def test_a_new_code_cancels_the_old_and_codes_expire(db_path, client, make_user, capsys, monkeypatch):
    user = make_user("office")
    first = issue_code(db_path, user["username"], capsys)
    second = issue_code(db_path, user["username"], capsys)
    body = {"username": user["username"], "new_password": "a-new-long-password"}
    assert_error(client.post(RESET, json={**body, "code": first}), 401, "reset_code_invalid")
    monkeypatch.setenv("DOORSTEP_RESET_CODE_HOURS", "0")
    expired = issue_code(db_path, user["username"], capsys)  # cancels the second, and is over at once
    for code in (second, expired):
        assert_error(client.post(RESET, json={**body, "code": code}), 401, "reset_code_invalid")


def test_deactivating_cancels_unused_reset_codes(db_path, client, make_user, capsys):
    user = make_user("officer")
    code = issue_code(db_path, user["username"], capsys)
    assert doorstep(db_path, "user", "deactivate", user["username"], capsys=capsys)[0] == 0
    assert doorstep(db_path, "user", "reactivate", user["username"], capsys=capsys)[0] == 0
    r = client.post(RESET, json={"username": user["username"], "code": code, "new_password": "a-new-long-password"})
    assert_error(r, 401, "reset_code_invalid")


@pytest.mark.parametrize("body", [{}, {"username": "x", "code": "y"}, {"username": 1, "code": "y", "new_password": "z"},
                                  {"username": "x", "code": "y" * 65, "new_password": "a-long-password"}])
def test_a_malformed_reset_body_is_422(client, body):
    assert_error(client.post(RESET, json=body), 422, "validation_failed")


def test_role_change_is_in_force_at_the_next_request(db_path, app_state, login, capsys):
    officer = login("officer")
    assert_error(officer.get("/api/devices"), 403, "forbidden")
    rc, out, _ = doorstep(db_path, "user", "set-role", officer.user["username"], "office", capsys=capsys)
    assert rc == 0 and "is now office" in out
    assert officer.get("/api/devices").status_code == 200  # the same token: roles are read per request
    [entry] = [e for e in audit_of(app_state, officer.user["id"]) if e["action"] == "user_role_change"]
    assert entry["detail"]["from"] == "officer" and entry["detail"]["to"] == "office"


def test_rename_changes_the_display_name_only(db_path, app_state, client, make_user, capsys):
    user = make_user("officer")
    rc, out, _ = doorstep(db_path, "user", "rename", user["username"], "  Amira   Khan ", capsys=capsys)
    assert rc == 0 and "Amira Khan" in out
    r = sign_in(client, user["username"])
    assert r.json()["user"]["display_name"] == "Amira Khan" and r.json()["user"]["username"] == user["username"]
    assert doorstep(db_path, "user", "rename", user["username"], "\t", capsys=capsys)[0] == 1
    [entry] = [e for e in audit_of(app_state, user["id"]) if e["action"] == "user_rename"]
    assert entry["detail"]["to"] == "Amira Khan"


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(db_path, make_user, capsys):
    admin = make_user("admin")
    for args in (("deactivate", admin["username"]), ("set-role", admin["username"], "office")):
        rc, _, err = doorstep(db_path, "user", *args, capsys=capsys)
        assert rc == 1 and "last active admin" in err
    make_user("admin")
    assert doorstep(db_path, "user", "set-role", admin["username"], "office", capsys=capsys)[0] == 0


def test_user_add_on_the_command_line_is_audited(db_path, app_state, capsys, monkeypatch):
    monkeypatch.setenv("DOORSTEP_PASSWORD", "a-long-enough-password")
    rc, out, _ = doorstep(db_path, "user", "add", "amira", "--role", "officer", capsys=capsys)
    assert rc == 0
    user_id = out.strip().rsplit("(", 1)[1].rstrip(")")
    [entry] = audit_of(app_state, user_id)
    assert entry["action"] == "user_add" and entry["detail"]["via"] == "cli" and entry["detail"]["role"] == "officer"


def test_unknown_users_and_no_delete(db_path, capsys):
    rc, _, err = doorstep(db_path, "user", "deactivate", "nobody", capsys=capsys)
    assert rc == 1 and "no user nobody" in err
    with pytest.raises(SystemExit) as stop:  # users are deactivated, never deleted (docs/users.md)
        main(["--db", db_path, "user", "delete", "nobody"])
    assert stop.value.code == 2
