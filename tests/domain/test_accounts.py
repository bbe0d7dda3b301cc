"""The pure sign-in rules: which lock an account is under, and what a refused sign-in says."""

from datetime import datetime, timedelta, timezone

from domain.accounts import SIGN_IN_REFUSED, AccountStatus, SignInFacts, explain, status

NOW = datetime(2026, 11, 20, 15, tzinfo=timezone.utc)


def test_a_disabled_account_is_disabled_whatever_else_holds() -> None:
    for failed, idle_days, locked in ((0, 0, False), (3, 0, True), (0, 200, False), (0, 400, False)):
        facts = SignInFacts(failed, NOW - timedelta(days=idle_days), locked, disabled=True)
        assert status(facts, NOW) == AccountStatus.DISABLED
    assert status(SignInFacts(0, NOW - timedelta(days=400), False), NOW) == AccountStatus.EXPIRED
    assert "disabled" in explain(AccountStatus.DISABLED)


def test_a_refused_sign_in_says_what_to_do_without_saying_which_failure_it_was() -> None:
    assert SIGN_IN_REFUSED.startswith("wrong user name or password")
    assert "locked after 3 failed sign-ins" in SIGN_IN_REFUSED
