"""A security administrator's work over real HTTP: disable and enable, level and roles, sessions, password resets
and the user's first sign-in after one, users changing their own password; re-establishing only what a year locked."""

from __future__ import annotations

import httpx

from tests.conftest import FakeClock
from tests.http.support import PASSWORD, STAFF, Api, add_staff, live_server
from tests.http.test_sign_in import refusal

NEW_PASSWORD = "my own new passphrase"


def sessions_end(client: httpx.Client) -> None:
    refusal(client.get("/me"), 401, "unknown or has expired")


def logged(api: Api, action: str, target: str) -> list[dict[str, object]]:
    log = api("admin").get("/security-log", params={"limit": 1000}).json()
    return [e for e in log if e["action"] == action and e["target"] == target]


def test_a_disabled_user_cannot_sign_in_and_its_sessions_end_at_once(api: Api) -> None:
    l1 = api("l1")
    refusal(api("l2").post("/users/l1/disable"), 403, "security administrator")
    refusal(api("other.admin").post("/users/l1/disable"), 404, "not found")
    refusal(api("admin").post("/users/admin/disable"), 403, "its own account")
    disabled = api("admin").post("/users/l1/disable")
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    sessions_end(l1)  # at once, although this server had the token cached
    refusal(api.sign_in("l1"), 403, "disabled")  # the right password learns why
    refusal(api.sign_in("l1", "not the password"), 401, "wrong user name or password")
    assert api("admin").post("/users/l1/enable").json()["status"] == "active"
    assert api.sign_in("l1").status_code == 200
    assert [e["user_id"] for e in logged(api, "user.disabled", "l1")] == ["admin"]
    assert [e["user_id"] for e in logged(api, "user.enabled", "l1")] == ["admin"]


def test_changing_a_level_or_role_ends_the_sessions_and_holds_at_once(api: Api) -> None:
    l3 = api("l3")
    refusal(api("admin").patch("/users/l3", json={}), 422, "nothing to change")
    refusal(api("admin").patch("/users/l3", json={"state_reviewer": True}), 422, "state_reviewer")
    refusal(api("admin").patch("/users/admin", json={"level": 1}), 403, "its own account")
    refusal(api("other.admin").patch("/users/l3", json={"level": 1}), 404, "not found")
    changed = api("admin").patch("/users/l3", json={"level": 1, "security_admin": True})
    assert changed.status_code == 200 and (changed.json()["level"], changed.json()["security_admin"]) == (1, True)
    sessions_end(l3)
    api.clients.pop("l3")
    assert api("l3").get("/me").json()["level"] == 1
    assert api("l3").get("/users").status_code == 200  # a security administrator now
    assert [e["detail"] for e in logged(api, "user.changed", "l3")] == [
        "Level 3 -> Level 1, security administrator"]


def test_revoking_sessions_ends_every_token_of_the_user(api: Api) -> None:
    first = api("l2")
    second = httpx.Client(base_url=api.base_url, headers={
        "Authorization": f"Bearer {api.sign_in('l2').json()['access_token']}"})
    refusal(api("admin").post("/users/admin/revoke-sessions"), 403, "its own account")
    revoked = api("admin").post("/users/l2/revoke-sessions")
    assert revoked.json() == {"user_id": "l2", "sessions_revoked": 2}
    sessions_end(first)
    sessions_end(second)
    second.close()
    assert [e["detail"] for e in logged(api, "user.sessions_revoked", "l2")] == ["2 sessions"]


def test_a_reset_gives_a_one_time_password_that_must_be_changed_before_anything_else(api: Api) -> None:
    l1 = api("l1")
    refusal(api("admin").post("/users/admin/reset-password"), 403, "its own account")
    reset = api("admin").post("/users/l1/reset-password")
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    one_time = reset.json()["one_time_password"]
    assert len(one_time) >= 12 and reset.json()["user"]["must_change_password"]
    sessions_end(l1)
    refusal(api.sign_in("l1"), 401, "wrong user name or password")  # the old password is gone

    first = api.sign_in("l1", one_time)
    assert first.status_code == 200
    assert first.json()["user"]["password_reset"] == {"by": "admin", "at": "2026-11-20T15:00:00+00:00"}
    assert first.json()["notice"].startswith("your password was set by admin at 2026-11-20 10:00 EST")
    pending = httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    refusal(pending.get("/me"), 403, "choose a new password first")
    refusal(pending.post("/incidents", json={"program": "P", "setting": "inpatient", "code": "si.fall",
                                             "summary": "x"}), 403, "choose a new password first")
    refusal(pending.post("/auth/password", json={"current_password": "not it at all", "new_password": NEW_PASSWORD}),
            403, "current password is not right")
    refusal(pending.post("/auth/password", json={"current_password": one_time, "new_password": "short"}),
            422, "12 characters")
    changed = pending.post("/auth/password", json={"current_password": one_time, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    assert not changed.json()["user"]["must_change_password"] and changed.json()["notice"] is None
    sessions_end(pending)
    fresh = httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {changed.json()['access_token']}"})
    assert fresh.get("/me").json()["user_id"] == "l1"
    pending.close()
    fresh.close()
    refusal(api.sign_in("l1", one_time), 401, "wrong")
    assert api.sign_in("l1", NEW_PASSWORD).status_code == 200
    assert [e["user_id"] for e in logged(api, "user.password_reset", "l1")] == ["admin"]
    assert [e["outcome"] for e in logged(api, "user.password_changed", "l1")] == ["done", "refused"]


def test_users_change_their_own_password_and_their_other_sessions_end(api: Api) -> None:
    elsewhere = api("l2")
    here = api.sign_in("l2").json()["access_token"]
    with httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {here}"}) as client:
        refusal(client.post("/auth/password", json={"current_password": PASSWORD, "new_password": PASSWORD}),
                422, "must differ")
        changed = client.post("/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert changed.status_code == 200
        sessions_end(client)
    sessions_end(elsewhere)
    refusal(api.sign_in("l2"), 401, "wrong")
    assert api.sign_in("l2", NEW_PASSWORD).status_code == 200


def test_re_establishing_is_only_for_accounts_a_year_locked_so_no_administrator_takes_one_over(api: Api) -> None:
    l1 = api("l1")
    taken = api("admin").post("/users/l1/re-establish", json={"password": "the administrator's pick"})
    refusal(taken, 409, "only an account locked by a year")
    assert l1.get("/me").status_code == 200  # untouched
    refusal(api.sign_in("l1", "the administrator's pick"), 401, "wrong")
    assert api.sign_in("l1").status_code == 200


def test_a_taken_user_name_reads_the_same_in_any_facility(api: Api) -> None:
    elsewhere = api("other.admin").post("/users", json={"user_id": "l1", "level": 3, "password": "a passphrase!!"})
    own = api("admin").post("/users", json={"user_id": "l1", "level": 3, "password": "a passphrase!!"})
    refusal(elsewhere, 409, "taken")
    assert elsewhere.json()["detail"] == own.json()["detail"]
    assert "F-001" not in elsewhere.text and "exists" not in elsewhere.text


def test_another_server_process_stops_trusting_ended_sessions_within_the_cache_time(
        database_url: str, clock: FakeClock) -> None:
    add_staff(database_url, clock, {name: STAFF[name] for name in ("l1", "admin")})
    with live_server(database_url, clock) as first, live_server(database_url, clock) as second:
        token = Api(first).sign_in("l1").json()["access_token"]
        there = httpx.Client(base_url=second, headers={"Authorization": f"Bearer {token}"})
        assert there.get("/me").status_code == 200  # the second server now holds the token in its cache
        admin = Api(first)
        assert admin("admin").post("/users/l1/disable").status_code == 200
        clock.advance(seconds=6)  # past TOKEN_CACHE_SECONDS (adapters.http.context)
        sessions_end(there)
        there.close()
        admin.close()


def test_a_password_an_administrator_chooses_is_one_time(api: Api) -> None:
    added = api("admin").post("/users", json={"user_id": "new.nurse", "level": 2, "password": "a passphrase chosen"})
    assert added.status_code == 201 and added.json()["must_change_password"]
    first = api.sign_in("new.nurse", "a passphrase chosen")
    assert first.status_code == 200 and first.json()["notice"].startswith("your password was set by admin at")
    token = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert api.anonymous.get("/board", headers=token).status_code == 403  # only the password may be changed
    changed = api.anonymous.post("/auth/password", headers=token,
                                 json={"current_password": "a passphrase chosen", "new_password": "my own passphrase"})
    assert changed.status_code == 200 and not changed.json()["user"]["must_change_password"]
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert api.anonymous.get("/board", headers=fresh).status_code == 200


def test_an_administrator_sets_and_removes_email_addresses_that_only_the_user_and_its_administrators_see(api: Api) -> None:
    added = api("admin").post("/users", json={"user_id": "new.l1", "level": 1, "password": PASSWORD,
                                              "email": "New.L1@Example.org"})
    assert added.status_code == 201 and added.json()["email"] == "new.l1@example.org"
    refusal(api("admin").post("/users", json={"user_id": "bad", "level": 1, "password": PASSWORD,
                                              "email": "x@example.org\r\nBcc: y@example.org"}), 422, "one email address")
    assert api.sign_in("bad").status_code == 401, "a refused address adds no user"
    l1 = api("l1")
    refusal(api("admin").patch("/users/l1", json={"email": "not an address"}), 422, "one email address")
    refusal(api("other.admin").patch("/users/l1", json={"email": "x@example.org"}), 404, "not found")
    refusal(api("admin").patch("/users/admin", json={"email": "own@example.org"}), 403, "its own account")
    refusal(api("l2").patch("/users/l1", json={"email": "x@example.org"}), 403, "security administrator")

    changed = api("admin").patch("/users/l1", json={"email": "l1@example.org"})
    assert changed.status_code == 200 and (changed.json()["email"], changed.json()["level"]) == ("l1@example.org", 1)
    assert l1.get("/me").json()["email"] == "l1@example.org", "a new address ends no session; the user sees its own"
    assert {u["user_id"]: u["email"] for u in api("admin").get("/users").json()}["l1"] == "l1@example.org"
    assert "l1" not in {u["user_id"] for u in api("other.admin").get("/users").json()}
    refusal(api("l2").get("/users"), 403, "security administrator")
    assert api("admin").patch("/users/l1", json={"level": 2}).json()["email"] == "l1@example.org", "left out: kept"
    assert api("admin").patch("/users/l1", json={"email": None}).json()["email"] is None
    refusal(api("admin").patch("/users/l1", json={"email": None}), 422, "nothing to change")

    assert [e["detail"] for e in logged(api, "user.changed", "l1")] == [
        "email address removed", "Level 1 -> Level 2", "email address set"]
    assert [e["detail"] for e in logged(api, "user.added", "new.l1")] == ["facility F-001, Level 1, with an email address"]
    log = api("admin").get("/security-log", params={"limit": 1000}).json()
    given = ("new.l1@", "New.L1@", "l1@example.org", "y@example.org", "not an address", "x@example.org", "own@example.org")
    assert [entry for entry in log if any(address in str(entry["detail"]) for address in given)] == [], \
        "the log never holds an address, not even a refused one"
