"""Sign-in rules over real HTTP with an injected clock: lockout, inactivity, re-establishing, token expiry."""

from __future__ import annotations

import httpx

from tests.conftest import FakeClock
from tests.http.support import PASSWORD, Api


def refusal(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"], response.json()["detail"]


def admin(api: Api) -> httpx.Client:
    """A fresh admin session (the clock may have moved past the last token's expiry)."""
    api.clients.pop("admin", None)
    return api("admin")


def test_three_failures_in_a_row_lock_the_account_until_an_administrator_unlocks_it(api: Api) -> None:
    for _ in range(2):
        refusal(api.sign_in("l3", "wrong password!!"), 401, "wrong user name or password")
    assert api.sign_in("l3").status_code == 200  # a success resets the count
    for _ in range(2):
        refusal(api.sign_in("l3", "wrong password!!"), 401, "wrong user name or password")
    refusal(api.sign_in("l3", "wrong password!!"), 401, "locked after 3 failed sign-ins")
    refusal(api.sign_in("l3"), 403, "locked after 3 failed sign-ins")  # even the right password
    assert api.sign_in("l3").headers.get("www-authenticate") is None
    refusal(api("l1").post("/users/l3/unlock"), 403, "security administrator")
    refusal(api("other.admin").post("/users/l3/unlock"), 404, "not found")
    unlocked = admin(api).post("/users/l3/unlock")
    assert unlocked.status_code == 200 and unlocked.json()["status"] == "active"
    assert api.sign_in("l3").status_code == 200
    log = admin(api).get("/security-log").json()
    actions = [(e["user_id"], e["action"], e["outcome"]) for e in log]
    assert ("l3", "user.locked_out", "done") in actions and ("admin", "user.unlocked", "done") in actions
    assert sum(1 for e in log if e["action"] == "sign_in" and e["outcome"] == "refused" and e["target"] == "l3") == 7  # 5 wrong, 2 while locked


def test_an_unknown_user_and_a_wrong_password_read_the_same(api: Api) -> None:
    unknown = api.sign_in("nobody", "whatever it is")
    wrong = api.sign_in("l1", "whatever it is")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]
    refusal(api.anonymous.post("/auth/token", json={"username": "l1"}), 422, "password")


def test_six_months_without_signing_in_locks_and_a_year_needs_re_establishing(api: Api, clock: FakeClock) -> None:
    clock.advance(days=100)
    admin(api)  # the administrator keeps signing in
    clock.advance(days=84)  # l3: 184 days idle
    refusal(api.sign_in("l3"), 403, "six months")
    assert admin(api).post("/users/l3/unlock").json()["status"] == "active"
    assert api.sign_in("l3").status_code == 200

    for _ in range(2):
        clock.advance(days=150)
        admin(api)
    clock.advance(days=70)  # l3: 370 days idle
    refusal(api.sign_in("l3"), 403, "re-establish")
    refusal(admin(api).post("/users/l3/unlock"), 409, "re-establish")
    refusal(admin(api).post("/users/l3/re-establish", json={"password": "short"}), 422, "12 characters")
    renewed = admin(api).post("/users/l3/re-establish", json={"password": "a brand new passphrase"})
    assert renewed.status_code == 200 and renewed.json()["status"] == "active"
    refusal(api.sign_in("l3", PASSWORD), 401, "wrong")
    assert api.sign_in("l3", "a brand new passphrase").status_code == 200


def test_tokens_expire_and_sign_out_ends_them_at_once(api: Api, clock: FakeClock) -> None:
    client = api("l3")
    assert client.get("/me").json()["user_id"] == "l3"
    clock.advance(hours=8, seconds=1)
    refusal(client.get("/me"), 401, "expired")
    api.clients.pop("l3")
    client = api("l3")
    assert client.post("/auth/sign-out").status_code == 204
    refusal(client.get("/me"), 401, "unknown or has expired")
    refusal(api.anonymous.get("/me", headers={"Authorization": "Bearer not-a-token"}), 401, "unknown")
