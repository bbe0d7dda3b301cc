"""``nimrs users``: the user registry from the command line (the operator's side; the HTTP API has the administrators').

The operator sees every user's email address (personal data, as a security administrator sees its own facility's).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from adapters.cli.support import emit, handles_errors, out, session
from adapters.cli.tables import Wide, line, show, table
from adapters.local_time import local_time
from domain.errors import ValidationFailed

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]
Email = Annotated[str | None, typer.Option("--email", help="Where the user's receipts of Email OMH and the Report of "
                                                           "Death go: one address such as name@example.org.")]


def _password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ValidationFailed("--password-stdin: standard input held no password")
    return password


def _roles_and_notes(a: dict[str, Any]) -> str:
    roles = [r for r, on in (("security administrator", a["security_admin"]), ("state reviewer", a["state_reviewer"])) if on]
    notes = [*roles, *([] if a["can_sign_in"] else ["no password: CLI only"]),
             *(["must change its one-time password"] if a.get("must_change_password") else []),
             *([f"email {a['email']}"] if a.get("email") else [])]
    return "; ".join(notes)


def _render_account(a: dict[str, Any]) -> None:
    notes = _roles_and_notes(a)
    line(f"{a['user_id']}  {a['facility']}  Level {a['level']}  {a['status']}" + (f"  ({notes})" if notes else ""))


def _render_accounts(accounts: list[dict[str, Any]], wide: bool) -> None:
    listed = table("user", "facility", "level", "status", "last sign-in", "roles and notes")
    for a in accounts:
        listed.add_row(a["user_id"], a["facility"], str(a["level"]), a["status"],
                       local_time(a["last_sign_in_at"]) or "never", _roles_and_notes(a))
    show(listed, wide)


def register(users_app: typer.Typer) -> None:
    @users_app.command("add")
    @handles_errors
    def users_add(
        name: str,
        facility: Annotated[str, typer.Option(help="The user's facility.")],
        level: Annotated[int, typer.Option(help="Security group: 1 submits, 2 creates, 3 reads.")],
        security_admin: Annotated[bool, typer.Option("--security-admin", help="Manages its facility's users.")] = False,
        state_reviewer: Annotated[bool, typer.Option("--state-reviewer", help="Reads every facility.")] = False,
        password_stdin: PasswordStdin = False,
        email: Email = None,
        as_json: Json = False,
    ) -> None:
        """Add a user (with --password-stdin, one who can sign in over HTTP)."""
        password = _password(password_stdin)
        with session() as runtime:
            account = runtime.accounts.add(name, facility, level, password=password, security_admin=security_admin,
                                           state_reviewer=state_reviewer, email=email)
        emit(account.as_dict(), as_json, lambda a: out.print(
            f"added {a['user_id']} (facility {a['facility']}, Level {a['level']})"))

    @users_app.command("list")
    @handles_errors
    def users_list(wide: Wide = False, as_json: Json = False) -> None:
        """List the users with their security group, roles and sign-in status."""
        with session() as runtime:
            rows = [account.as_dict() for account in runtime.accounts.all()]
        emit(rows, as_json, lambda users: _render_accounts(users, wide))

    @users_app.command("unlock")
    @handles_errors
    def users_unlock(name: str, as_json: Json = False) -> None:
        """Unlock after failed sign-ins or six months' inactivity."""
        with session() as runtime:
            emit(runtime.accounts.unlock(name).as_dict(), as_json, _render_account)

    @users_app.command("disable")
    @handles_errors
    def users_disable(name: str, as_json: Json = False) -> None:
        """Disable a user: no sign-in, and its sessions end at once."""
        with session() as runtime:
            emit(runtime.accounts.disable(name).as_dict(), as_json, _render_account)

    @users_app.command("enable")
    @handles_errors
    def users_enable(name: str, as_json: Json = False) -> None:
        """Enable a disabled user again."""
        with session() as runtime:
            emit(runtime.accounts.enable(name).as_dict(), as_json, _render_account)

    @users_app.command("change")
    @handles_errors
    def users_change(
        name: str,
        level: Annotated[int | None, typer.Option(help="New security group: 1 submits, 2 creates, 3 reads.")] = None,
        security_admin: Annotated[bool | None, typer.Option(
            "--security-admin/--no-security-admin", help="Grant or remove the security administrator role.")] = None,
        state_reviewer: Annotated[bool | None, typer.Option(
            "--state-reviewer/--no-state-reviewer", help="Grant or remove the state reviewer role.")] = None,
        email: Email = None,
        no_email: Annotated[bool, typer.Option("--no-email", help="Remove the user's email address.")] = False,
        as_json: Json = False,
    ) -> None:
        """Change a user's level, roles or email address; a new level or role ends its sessions, so it holds at once."""
        from workflows.accounts import KEEP

        if email is not None and no_email:
            raise ValidationFailed("give --email ADDRESS or --no-email, not both")
        with session() as runtime:
            emit(runtime.accounts.change(name, level=level, security_admin=security_admin, state_reviewer=state_reviewer,
                                         email=None if no_email else KEEP if email is None else email).as_dict(),
                 as_json, _render_account)

    @users_app.command("revoke-sessions")
    @handles_errors
    def users_revoke_sessions(name: str, as_json: Json = False) -> None:
        """End every session (bearer token) of a user at once."""
        with session() as runtime:
            ended = runtime.accounts.revoke_sessions(name)
        emit({"user_id": name, "sessions_revoked": ended}, as_json,
             lambda r: out.print(f"{r['user_id']}: {r['sessions_revoked']} session(s) ended"))

    @users_app.command("reset-password")
    @handles_errors
    def users_reset_password(name: str, as_json: Json = False) -> None:
        """A one-time password, shown once, that the user must change at the next sign-in."""
        with session() as runtime:
            account, password = runtime.accounts.reset_password(name)
        emit({"user": account.as_dict(), "one_time_password": password}, as_json, lambda r: out.print(
            f"one-time password for {r['user']['user_id']} (shown once; the user must change it at sign-in): "
            f"{r['one_time_password']}"))

    @users_app.command("re-establish")
    @handles_errors
    def users_reestablish(name: str, password_stdin: PasswordStdin = False, as_json: Json = False) -> None:
        """Re-establish an account locked by a year without signing in, with a password the user must change."""
        password = _password(password_stdin)
        if password is None:
            raise ValidationFailed("re-establishing needs a new password: pass --password-stdin")
        with session() as runtime:
            emit(runtime.accounts.reestablish(name, password).as_dict(), as_json, _render_account)
