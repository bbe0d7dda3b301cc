"""Users from the command line: passwords on stdin, roles, unlocking and re-establishing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.bootstrap import Runtime
from adapters.settings import load_settings
from domain.errors import PermissionDenied, Unauthenticated
from tests.adapters.test_cli import nimrs, ok_json


def test_users_get_passwords_roles_and_locks_lifted_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/users.db"
    added = nimrs("users", "add", "admin", "--facility", "F-001", "--level", "3", "--security-admin",
                  "--password-stdin", "--json", url=url, stdin="a long enough passphrase\n")
    assert added.returncode == 0, added.stderr
    short = nimrs("users", "add", "weak", "--facility", "F-001", "--level", "1", "--password-stdin", url=url,
                  stdin="short\n")
    assert short.returncode == 3 and "12 characters" in short.stderr
    assert nimrs("users", "add", "empty", "--facility", "F-001", "--level", "1", "--password-stdin", url=url,
                 stdin="").returncode == 3
    listed = {u["user_id"]: u for u in ok_json("users", "list", url=url)}
    assert listed["admin"]["security_admin"] and listed["admin"]["can_sign_in"] and "weak" not in listed

    runtime = Runtime(load_settings({"NIMRS_DATABASE_URL": url}))
    registry = runtime.accounts
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            registry.sign_in("admin", "not the passphrase")
    assert registry.account("admin").status == "locked_out"
    assert ok_json("users", "unlock", "admin", url=url)["status"] == "active"
    year_ago = datetime.now(timezone.utc) - timedelta(days=400)
    with runtime.engine.begin() as connection:
        connection.execute(text("UPDATE nimrs_users SET last_active_at = :at"), {"at": year_ago.isoformat()})
    assert registry.account("admin").status == "expired"
    refused = nimrs("users", "unlock", "admin", url=url)
    assert refused.returncode == 6 and "re-establish" in refused.stderr
    renewed = nimrs("users", "re-establish", "admin", "--password-stdin", "--json", url=url,
                    stdin="a new long passphrase\n")
    assert renewed.returncode == 0, renewed.stderr
    assert registry.sign_in("admin", "a new long passphrase").account.status == "active"
    runtime.close()


def test_the_operator_disables_changes_resets_and_ends_sessions_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/users.db"
    assert nimrs("users", "add", "l1", "--facility", "F-001", "--level", "1", "--password-stdin", url=url,
                 stdin="a long enough passphrase\n").returncode == 0
    runtime = Runtime(load_settings({"NIMRS_DATABASE_URL": url}))
    registry = runtime.accounts
    token = registry.sign_in("l1", "a long enough passphrase").token
    assert ok_json("users", "disable", "l1", url=url)["status"] == "disabled"
    with pytest.raises(Unauthenticated):
        registry.authenticate(token)  # the session ended with the disabling
    with pytest.raises(PermissionDenied, match="disabled"):
        registry.sign_in("l1", "a long enough passphrase")
    assert ok_json("users", "enable", "l1", url=url)["status"] == "active"

    changed = ok_json("users", "change", "l1", "--level", "2", "--state-reviewer", url=url)
    assert (changed["level"], changed["state_reviewer"]) == (2, True)
    assert nimrs("users", "change", "l1", "--level", "2", url=url).returncode == 3  # nothing to change
    refused = nimrs("users", "re-establish", "l1", "--password-stdin", url=url, stdin="an operator's passphrase\n")
    assert refused.returncode == 6 and "only an account locked by a year" in refused.stderr

    registry.sign_in("l1", "a long enough passphrase")
    assert ok_json("users", "revoke-sessions", "l1", url=url) == {"user_id": "l1", "sessions_revoked": 1}
    reset = ok_json("users", "reset-password", "l1", url=url)
    assert reset["user"]["must_change_password"] and reset["user"]["password_reset"]["by"] == "the operator"
    first = registry.sign_in("l1", reset["one_time_password"])
    assert first.account.must_change_password and registry.authenticate(first.token)[0].must_change_password
    renewed = registry.change_password("l1", reset["one_time_password"], "l1's own passphrase")
    assert not renewed.account.must_change_password
    with runtime.engine.connect() as connection:
        actions = set(connection.execute(
            text("SELECT action FROM nimrs_security_log WHERE target = 'l1' AND action LIKE 'user.%'")).scalars())
    assert {"user.disabled", "user.enabled", "user.changed", "user.sessions_revoked", "user.password_reset",
            "user.password_changed"} <= actions
    runtime.close()


def test_the_operator_sets_changes_and_removes_an_email_address_and_the_log_never_holds_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/users.db"
    added = ok_json("users", "add", "l1", "--facility", "F-001", "--level", "1", "--email", " Nurse.One@Example.org",
                    url=url)
    assert added["email"] == "nurse.one@example.org"
    assert ok_json("users", "add", "l2", "--facility", "F-001", "--level", "2", url=url)["email"] is None
    for wrong in ("not an address", "x@example.org\r\nBcc: z@example.org", "Nurse <n@example.org>", "a@b.org,c@d.org"):
        refused = nimrs("users", "add", "l3", "--facility", "F-001", "--level", "3", "--email", wrong, url=url)
        assert refused.returncode == 3 and "must be one email address" in refused.stderr, wrong
    assert {u["user_id"]: u["email"] for u in ok_json("users", "list", url=url)} == {
        "l1": "nurse.one@example.org", "l2": None}
    assert "email nurse.one@example.org" in nimrs("users", "list", url=url).stdout

    assert ok_json("users", "change", "l1", "--email", "night.nurse@example.org", url=url)["email"] == \
        "night.nurse@example.org"
    both = nimrs("users", "change", "l1", "--email", "a@example.org", "--no-email", url=url)
    assert both.returncode == 3 and "not both" in both.stderr
    same = nimrs("users", "change", "l1", "--email", "Night.Nurse@example.org", url=url)
    assert same.returncode == 3 and "nothing to change" in same.stderr
    removed = ok_json("users", "change", "l1", "--no-email", "--level", "2", url=url)
    assert (removed["email"], removed["level"]) == (None, 2)
    assert ok_json("users", "change", "l2", "--email", "l2@example.org", url=url)["email"] == "l2@example.org"

    with Runtime(load_settings({"NIMRS_DATABASE_URL": url})) as runtime, runtime.engine.connect() as connection:
        details = connection.execute(text(
            "SELECT target, detail FROM nimrs_security_log WHERE action IN ('user.added', 'user.changed') "
            "ORDER BY entry")).all()
    assert [tuple(row) for row in details] == [
        ("l1", "facility F-001, Level 1, with an email address"), ("l2", "facility F-001, Level 2"),
        ("l1", "email address changed"), ("l1", "Level 1 -> Level 2; email address removed"), ("l2", "email address set")]
