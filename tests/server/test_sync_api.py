"""PROTOCOL.md §3–§5 through the HTTP API: push, pull, merge, conflicts, scope."""
from __future__ import annotations

import time

from tests.conftest import new_id


def results(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]


def by_key(items: list[dict]) -> dict[tuple[str, str], dict]:
    return {(i["type"], i["id"]): i for i in items}


def test_visit_is_stored_with_the_officer_from_the_token(world, login):
    office, officer, ids = world
    visit = new_id()
    [r] = results(officer.push([officer.change("visit", visit, {
        "case_id": ids["case"], "officer_id": office.user["id"], "outcome": "no_answer",
        "notes": "card through the door"})]))
    assert r == {"change_id": r["change_id"], "status": "applied", "version": 1, "errors": [], "lost_fields": []}
    items, _ = office.pull_all()
    stored = by_key(items)[("visit", visit)]
    assert stored["fields"]["officer_id"] == officer.user["id"]
    assert stored["fields"]["household_id"] == ids["household"]
    assert stored["fields"]["created_by"] == officer.user["id"] and stored["fields"]["status"] == "draft"


def test_a_resent_batch_takes_effect_once(world):
    office, officer, ids = world
    batch = [officer.change("task", new_id(), {"case_id": ids["case"], "title": "ring school"}),
             officer.change("household", ids["household"], {"access_notes": "side door"}, base_version=1)]
    first = results(officer.push(batch))
    second = results(officer.push(batch))
    assert [r["status"] for r in first] == ["applied", "applied"]
    assert [r["status"] for r in second] == ["duplicate", "duplicate"]
    assert [r["version"] for r in second] == [r["version"] for r in first] == [1, 2]
    items, _ = officer.pull_all()
    assert by_key(items)[("household", ids["household"])]["version"] == 2


def test_different_fields_from_two_devices_both_survive(world, login):
    office, officer, ids = world
    phone2 = login("officer", username=officer.user["username"], device="tablet")
    a = results(officer.push([officer.change("household", ids["household"], {"access_notes": "dog"}, 1)]))
    b = results(phone2.push([phone2.change("household", ids["household"],
                                           {"contacts": [{"name": "Jo Stone", "relationship": "mother",
                                                          "phone": "07700 900123"}]}, 1)]))
    assert a[0]["status"] == b[0]["status"] == "applied"
    fields = by_key(office.pull_all()[0])[("household", ids["household"])]["fields"]
    assert fields["access_notes"] == "dog" and fields["contacts"][0]["name"] == "Jo Stone"
    assert office.get("/api/conflicts", status="open").json()["items"] == []


def test_same_field_conflict_is_recorded_and_resolved(world, login):
    office, officer, ids = world
    phone2 = login("officer", username=officer.user["username"], device="tablet")
    early = phone2.change("household", ids["household"], {"access_notes": "ring twice"}, 1)
    time.sleep(0.002)
    late = officer.change("household", ids["household"], {"access_notes": "use the side gate"}, 1)
    assert results(officer.push([late]))[0]["status"] == "applied"
    [lost] = results(phone2.push([early]))
    assert lost["status"] == "merged" and lost["lost_fields"] == ["access_notes"]
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    assert conflict["field"] == "access_notes" and conflict["entity_id"] == ids["household"]
    assert conflict["kept"]["value"] == "use the side gate" and conflict["lost"]["value"] == "ring twice"
    assert conflict["kept"]["by"] == conflict["lost"]["by"] == officer.user["id"]
    assert conflict["lost"]["hlc"] == early["hlc"]
    _, cursor = officer.pull_all()
    r = office.post(f"/api/conflicts/{conflict['id']}/resolve", {"choose": "lost"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    items, _ = officer.pull_all(cursor)
    assert by_key(items)[("household", ids["household"])]["fields"]["access_notes"] == "ring twice"
    assert office.get("/api/conflicts", status="open").json()["items"] == []
    again = office.post(f"/api/conflicts/{conflict['id']}/resolve", {"choose": "kept"})
    assert again.status_code == 422


def test_concurrent_overwrite_of_an_unseen_value_is_a_conflict_too(world, login):
    office, officer, ids = world
    first = office.change("household", ids["household"], {"access_notes": "office note"}, 1)
    assert results(office.push([first]))[0]["status"] == "applied"
    # the officer never pulled the office's note: base_version 1 predates it
    later = officer.change("household", ids["household"], {"access_notes": "officer note"}, 1)
    assert results(officer.push([later]))[0]["status"] == "applied"
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    assert conflict["kept"]["value"] == "officer note" and conflict["lost"]["value"] == "office note"
    # an edit made after seeing the current value is an ordinary edit
    seen = officer.change("household", ids["household"], {"access_notes": "final"}, 3)
    assert results(officer.push([seen]))[0]["status"] == "applied"
    assert len(office.get("/api/conflicts", status="open").json()["items"]) == 1


def test_submitted_visit_is_immutable_and_corrected_by_a_note(world):
    office, officer, ids = world
    visit = new_id()
    assert results(officer.push([officer.change("visit", visit, {
        "case_id": ids["case"], "outcome": "spoke_to_parent", "status": "submitted"})]))[0]["status"] == "applied"
    [r] = results(officer.push([officer.change("visit", visit, {"notes": "forgot"}, 1)]))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "immutable"
    [d] = results(officer.push([officer.change("visit", visit, {}, 1, op="delete")]))
    assert d["status"] == "rejected" and d["errors"][0]["code"] == "not_deletable"
    note = new_id()
    [n] = results(officer.push([officer.change("note", note, {"subject_type": "visit", "subject_id": visit,
                                                              "text": "Correction: dad was also present"})]))
    assert n["status"] == "applied"
    stored = by_key(office.pull_all()[0])[("note", note)]["fields"]
    assert stored["author_id"] == officer.user["id"] and stored["case_id"] == ids["case"]


def test_submitting_needs_an_outcome_and_concern_details(world):
    office, officer, ids = world
    [r] = results(officer.push([officer.change("visit", new_id(), {"case_id": ids["case"], "status": "submitted"})]))
    assert r["status"] == "rejected" and r["errors"][0]["field"] == "outcome"
    [r] = results(officer.push([officer.change("visit", new_id(), {
        "case_id": ids["case"], "status": "submitted", "outcome": "child_seen", "safeguarding_concern": True})]))
    assert r["status"] == "rejected" and r["errors"][0]["field"] == "concern_details"


def test_deletes(world):
    office, officer, ids = world
    task, visit = new_id(), new_id()
    results(officer.push([officer.change("task", task, {"case_id": ids["case"], "title": "x"}),
                          officer.change("visit", visit, {"case_id": ids["case"]})]))
    _, cursor = officer.pull_all()
    out = results(officer.push([officer.change("task", task, {}, 1, op="delete"),
                                officer.change("visit", visit, {}, 1, op="delete")]))
    assert [r["status"] for r in out] == ["applied", "applied"]
    items = by_key(officer.pull_all(cursor)[0])
    assert items[("task", task)]["deleted"] is True and items[("visit", visit)]["deleted"] is True
    [c] = results(office.push([office.change("case", ids["case"], {}, 1, op="delete")]))
    assert c["status"] == "rejected" and c["errors"][0]["code"] == "not_deletable"


def test_a_delete_older_than_an_edit_loses_and_leaves_a_conflict(world, login):
    office, officer, ids = world
    task = new_id()
    results(office.push([office.change("task", task, {"case_id": ids["case"], "title": "x"})]))
    stale_delete = officer.change("task", task, {}, 1, op="delete")
    time.sleep(0.002)
    results(office.push([office.change("task", task, {"title": "y"}, 1)]))
    [r] = results(officer.push([stale_delete]))
    assert r["status"] == "merged" and r["lost_fields"] == ["_deleted"]
    conflicts = office.get("/api/conflicts", status="open").json()["items"]
    assert [(c["entity_id"], c["field"]) for c in conflicts] == [(task, None)]


def test_a_clock_far_ahead_is_restamped(world):
    office, officer, ids = world
    change = officer.change("household", ids["household"], {"access_notes": "x"}, 1)
    future_ms = int(time.time() * 1000) + 60 * 60 * 1000
    change["hlc"] = f"{future_ms:015d}-000000-{officer.device_id}"
    [r] = results(officer.push([change]))
    assert r["status"] == "applied" and r["clock_skew"] is True
    # a correct clock a minute later still wins: the future stamp was not kept
    later = officer.change("household", ids["household"], {"access_notes": "y"}, 2)
    assert results(officer.push([later]))[0]["status"] == "applied"


def test_the_answer_stamp_is_later_than_every_stamp_of_the_batch(world):
    """PROTOCOL.md §6: ``server_hlc`` is past everything the server received, also stamps up to
    5 minutes ahead; a change restamped for skew later in the batch is stamped past them too."""
    from sync import parse_hlc

    office, officer, ids = world
    now_ms = int(time.time() * 1000)
    ahead = [officer.change("household", ids["household"], {"access_notes": f"n{k}"}) for k in range(3)]
    for k, change in enumerate(ahead):  # within the allowed skew, the middle one the latest
        change["hlc"] = f"{now_ms + (4 - abs(k - 1)) * 60_000:015d}-{k:06d}-{officer.device_id}"
    skewed = officer.change("household", ids["household"], {"contacts": [{"name": "Ann Restamped"}]})
    skewed["hlc"] = f"{now_ms + 3_600_000:015d}-000000-{officer.device_id}"
    answer = officer.push([*ahead, skewed])
    statuses = [r["status"] for r in results(answer)]
    assert statuses[:3] == ["applied", "applied", "merged"] and results(answer)[3]["clock_skew"] is True
    latest = max(parse_hlc(c["hlc"]) for c in ahead)
    assert parse_hlc(answer.json()["server_hlc"]) > latest
    # the restamped change wrote its field at a stamp past the batch's latest: a write stamped
    # just after that latest (but before the answer's stamp) loses to it
    between = officer.change("household", ids["household"], {"contacts": [{"name": "Bea Between"}]})
    between["hlc"] = f"{latest.ms:015d}-{latest.counter + 1:06d}-{officer.device_id}"
    [lost] = results(officer.push([between]))
    assert lost["status"] == "merged" and lost["lost_fields"] == ["contacts"]


def test_officer_scope(world, login):
    office, officer, ids = world
    other = login("officer")
    items, _ = other.pull_all()
    assert {i["type"] for i in items} == {"school"}
    [r] = results(other.push([other.change("household", ids["household"], {"access_notes": "x"}, 1)]))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "forbidden"
    [r] = results(officer.push([officer.change("household", ids["household"], {"address": "elsewhere"}, 1)]))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "forbidden"
    [r] = results(officer.push([officer.change("pupil", ids["pupil"], {"first_name": "X"}, 1)]))
    assert r["status"] == "rejected" and r["errors"][0]["code"] == "forbidden"
    [r] = results(office.push([office.change("pupil", ids["pupil"], {"band": "ok"}, 1)]))
    assert r["status"] == "rejected" and r["errors"][0]["field"] == "band"


def test_reassignment_moves_the_case_and_offline_work_still_lands(world, login):
    office, officer, ids = world
    other = login("officer")
    old_visit = new_id()
    results(officer.push([officer.change("visit", old_visit, {"case_id": ids["case"], "outcome": "card_left",
                                                              "status": "submitted"})]))
    _, cursor_a = officer.pull_all()
    _, cursor_b = other.pull_all()
    offline_visit = officer.change("visit", new_id(), {"case_id": ids["case"], "outcome": "no_answer"})
    [r] = results(office.push([office.change("case", ids["case"], {"assigned_officer_id": other.user["id"]}, 1)]))
    assert r["status"] == "applied"
    gone, cursor_a = officer.pull_all(cursor_a)
    assert {(i["type"], i["id"]) for i in gone if i.get("removed")} == {
        ("case", ids["case"]), ("pupil", ids["pupil"]), ("household", ids["household"]), ("visit", old_visit)}
    arrived = by_key(other.pull_all(cursor_b)[0])
    assert arrived[("visit", old_visit)]["fields"]["outcome"] == "card_left"
    assert {("case", ids["case"]), ("pupil", ids["pupil"]), ("household", ids["household"])} <= set(arrived)
    # the visit recorded offline before the sync is accepted and flagged
    [r] = results(officer.push([offline_visit]))
    assert r["status"] == "applied"
    flagged = office.get("/api/visits", flag="out_of_scope").json()["items"]
    assert [v["id"] for v in flagged] == [offline_visit["id"]]
    after, _ = officer.pull_all(cursor_a)
    assert after == [{"type": "visit", "id": offline_visit["id"], "removed": True}]
    # but other edits outside scope are forbidden
    [r] = results(officer.push([officer.change("household", ids["household"], {"access_notes": "x"}, 1)]))
    assert r["errors"][0]["code"] == "forbidden"


def test_pull_pages_never_skip_interleaved_writes(world):
    office, officer, ids = world
    tasks = [new_id() for _ in range(5)]
    results(office.push([office.change("task", t, {"case_id": ids["case"], "title": f"t{n}"})
                         for n, t in enumerate(tasks)]))
    seen: dict[tuple[str, str], int] = {}
    body = officer.pull(limit=2).json()
    assert body["has_more"] is True and len(body["changes"]) == 2
    late = new_id()
    results(office.push([office.change("task", late, {"case_id": ids["case"], "title": "late"}),
                         office.change("task", tasks[0], {"title": "renamed"}, 1)]))
    pages = [body]
    while body["has_more"]:
        body = officer.pull(body["cursor"], limit=2).json()
        pages.append(body)
    for page in pages:
        for item in page["changes"]:
            seen[(item["type"], item["id"])] = seen.get((item["type"], item["id"]), 0) + 1
    assert ("task", late) in seen and all(("task", t) in seen for t in tasks)
    final = by_key(officer.pull_all()[0])
    assert final[("task", tasks[0])]["fields"]["title"] == "renamed"


def test_limit_is_clamped_and_defaults(world):
    office, officer, ids = world
    assert officer.pull(limit=999_999).status_code == 200
    assert officer.pull(limit=0).status_code == 422


def test_escalation_needs_support_first(world):
    office, officer, ids = world
    [r] = results(office.push([office.change("case", ids["case"], {"stage": "penalty_notice"}, 1)]))
    assert r["status"] == "rejected"
    [err] = r["errors"]
    assert err["field"] == "stage" and err["code"] == "support_not_tried"
    assert "home visit or doorstep conversation" in err["message"]
    assert "attendance contract or notice to improve" in err["message"]
    results(office.push([office.change("case", ids["case"], {"stage": "attendance_contract"}, 1)]))
    [r] = results(office.push([office.change("case", ids["case"], {"stage": "prosecution"}, 2)]))
    assert r["status"] == "rejected" and "attendance contract" not in r["errors"][0]["message"]
    results(officer.push([officer.change("conversation", new_id(), {"case_id": ids["case"], "spoke_with": "mum",
                                                                     "status": "submitted"})]))
    [r] = results(office.push([office.change("case", ids["case"], {"stage": "penalty_notice"}, 2)]))
    assert r["status"] == "applied"


def test_old_cursor_is_told_to_reset(world, app_state):
    office, officer, ids = world
    _, cursor = officer.pull_all()
    results(office.push([office.change("task", new_id(), {"case_id": ids["case"], "title": "x"})]))
    with app_state.db.write() as txn:
        txn.execute("UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'max_seq') WHERE key = 'horizon'")
    body = officer.pull(cursor).json()
    assert body["reset"] is True and body["changes"] == []
    assert officer.pull().json()["changes"]


def test_sync_needs_the_protocol_header(world):
    office, officer, ids = world
    r = officer.client.get("/api/sync/pull", headers={"Authorization": f"Bearer {officer.token}"})
    assert r.status_code == 426 and r.json()["error"]["code"] == "upgrade_required"
    r = officer.client.get("/api/sync/pull", headers={"Authorization": f"Bearer {officer.token}",
                                                      "Doorstep-Protocol": "2"})
    assert r.status_code == 426


def test_audit_shows_who_saw_and_changed_a_pupil(world, login):
    office, officer, ids = world
    admin = login("admin")
    officer.pull_all()
    results(officer.push([officer.change("household", ids["household"], {"access_notes": "x"}, 1)]))
    rows = admin.get("/api/audit", entity_id=ids["pupil"]).json()["items"]
    assert {(r["user_id"], r["action"]) for r in rows} >= {(officer.user["id"], "pull"),
                                                           (office.user["id"], "push")}
    rows = admin.get("/api/audit", entity_id=ids["household"]).json()["items"]
    assert (officer.user["id"], "push", officer.device_id) in {(r["user_id"], r["action"], r["device_id"]) for r in rows}
    assert office.get("/api/audit").status_code == 403


def test_pull_items_carry_the_server_stamps_even_over_a_stored_key_of_the_same_name(world, app_state):
    """Validation never stores id/created_by/…; should such a key be in a saved record anyway
    (an old database, a hand edit), the pull still answers the server's stamps, one key each."""
    import json

    office, _officer, ids = world
    with app_state.db.write() as txn:
        [record] = txn.get("household", [ids["household"]]).values()
        record.fields.update({"created_by": "forged", "id": "x"})
        txn.save([record])
    raw = office.pull().text
    item = next(i for i in json.loads(raw)["changes"] if i["id"] == ids["household"])
    assert item["fields"]["id"] == ids["household"]
    assert item["fields"]["created_by"] == office.user["id"]
    assert '"forged"' not in raw and '"id":"x"' not in raw  # not sent twice, the stored one first


def test_rows_saved_before_pull_items_were_stored_pull_the_same(world, app_state):
    """A row from before the ``item`` column (NULL there) is pulled exactly as a saved one."""
    office, _officer, _ids = world
    before = office.pull().json()["changes"]
    with app_state.db.write() as txn:
        for table in ("schools", "households", "pupils", "cases", "visits"):
            txn.execute(f"UPDATE {table} SET item = NULL")
    after = office.pull().json()["changes"]
    assert after == before and {c["type"] for c in after} >= {"school", "household", "pupil", "case"}
    assert all(set(c["fields"]) >= {"id", "created_at", "created_by", "updated_at", "updated_by"}
               for c in after if not c.get("deleted"))


def test_field_stamps_stored_in_the_earlier_layout_still_decide_merges(world, app_state):
    """Records written before per-field write stamps were stored once a write
    (``{field: [hlc, version, by]}``) merge as before and are rewritten in the new layout."""
    import json

    office, _officer, ids = world
    with app_state.db.write() as txn:
        [(meta, data)] = txn.execute("SELECT meta, data FROM households WHERE id = ?",
                                     (ids["household"],)).fetchall()
        [write] = json.loads(meta)[0]  # one write made every field: ``[[write]]``, no name map
        old = {name: write for name in json.loads(data)}
        assert {"address", "lat", "lon"} <= set(old) and old["address"][1] == 1
        txn.execute("UPDATE households SET meta = ? WHERE id = ?", (json.dumps(old), ids["household"]))
    stale = office.change("household", ids["household"], {"address": "1 Old Road"}, base_version=1)
    stale["hlc"] = "000000000000001-000000-oldphone"  # older than the stored write
    [lost] = results(office.push([stale]))
    assert lost["status"] == "merged" and lost["lost_fields"] == ["address"] and lost["version"] == 1
    [won] = results(office.push([office.change("household", ids["household"], {"address": "3 New Road"}, 1)]))
    assert won["status"] == "applied" and won["version"] == 2
    fields = by_key(office.pull_all()[0])[("household", ids["household"])]["fields"]
    assert fields["address"] == "3 New Road" and fields["lat"] == 53.521
    with app_state.db.read() as txn:
        [(meta,)] = txn.execute("SELECT meta FROM households WHERE id = ?", (ids["household"],)).fetchall()
    writes, names = json.loads(meta)
    assert len(writes) == 2 and names["lat"] == names["lon"] != names["address"]
    assert writes[names["address"]][1] == 2 and writes[names["lat"]][1] == 1


def test_a_conversation_can_only_be_held_on_a_visit_of_its_own_case(world, login):
    office, officer, ids = world
    other_pupil, other_case, elsewhere = new_id(), new_id(), new_id()
    assert [r["status"] for r in results(office.push([
        office.change("pupil", other_pupil, {"upn": "B123456789012", "first_name": "Max", "last_name": "Stone",
                                             "school_id": ids["school"], "household_id": ids["household"]}),
        office.change("case", other_case, {"pupil_id": other_pupil, "assigned_officer_id": officer.user["id"]}),
        office.change("visit", elsewhere, {"case_id": other_case, "outcome": "no_answer"}),
    ]))] == ["applied"] * 3
    mine = new_id()
    assert results(officer.push([officer.change("visit", mine, {"case_id": ids["case"], "outcome": "card_left"})]))[0][
        "status"] == "applied"
    wrong, right = new_id(), new_id()
    [bad, good] = results(officer.push([
        officer.change("conversation", wrong, {"case_id": ids["case"], "visit_id": elsewhere, "spoke_with": "Mum"}),
        officer.change("conversation", right, {"case_id": ids["case"], "visit_id": mine, "spoke_with": "Mum"}),
    ]))
    assert bad["status"] == "rejected" and [e["field"] for e in bad["errors"]] == ["visit_id"]
    assert bad["errors"][0]["code"] == "validation_failed"
    assert good["status"] == "applied"
    # moving an existing conversation onto another case's visit is refused the same way
    [moved] = results(officer.push([officer.change("conversation", right, {"visit_id": elsewhere}, base_version=1)]))
    assert moved["status"] == "rejected" and moved["errors"][0]["field"] == "visit_id"
    items = by_key(office.pull_all()[0])
    assert ("conversation", wrong) not in items
    assert items[("conversation", right)]["fields"]["visit_id"] == mine


def test_times_are_stored_in_one_normal_form(world):
    office, officer, ids = world
    sent = {
        "2026-11-22T08:15:00Z": "2026-11-22T08:15:00Z",
        "2026-11-22T08:15:00.000Z": "2026-11-22T08:15:00Z",
        "2026-11-22T08:15:00.120Z": "2026-11-22T08:15:00.120Z",
        "2026-11-22T08:15:00.1234Z": "2026-11-22T08:15:00.123Z",
        "2026-11-22T09:15:00+01:00": "2026-11-22T08:15:00Z",
        "2026-11-22T08:15Z": "2026-11-22T08:15:00Z",
    }
    visits = {new_id(): raw for raw in sent}
    out = results(officer.push([officer.change("visit", v, {"case_id": ids["case"], "started_at": raw})
                                for v, raw in visits.items()]))
    assert [r["status"] for r in out] == ["applied"] * len(sent)
    items = by_key(office.pull_all()[0])
    assert {raw: items[("visit", v)]["fields"]["started_at"] for v, raw in visits.items()} == sent
    [bad] = results(officer.push([officer.change("visit", new_id(), {"case_id": ids["case"],
                                                                     "started_at": "2026-02-30T08:15:00Z"})]))
    assert bad["status"] == "rejected" and bad["errors"][0]["field"] == "started_at"


def test_ids_are_uuids_in_their_usual_form_and_are_kept_in_lower_case(world):
    office, officer, ids = world
    upper = new_id().upper()
    odd = [new_id().replace("-", "") + "----",  # 36 characters, hyphens in the wrong places
           "{" + new_id()[1:-1] + "}", "urn:uuid:" + new_id()[9:]]
    out = results(officer.push(
        [officer.change("visit", upper, {"case_id": ids["case"].upper()})]
        + [officer.change("visit", i, {"case_id": ids["case"]}) for i in odd]
        + [officer.change("visit", new_id(), {"case_id": odd[0]})]))
    assert out[0]["status"] == "applied"
    assert all(r["status"] == "rejected" for r in out[1:]), out
    assert [r["errors"][0]["field"] for r in out[1:]] == ["id", "id", "id", "case_id"]
    assert by_key(office.pull_all()[0])[("visit", upper.lower())]["fields"]["case_id"] == ids["case"]
