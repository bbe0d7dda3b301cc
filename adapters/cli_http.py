"""CLI commands for the HTTP front door: users and their sign-in, the server, the webhook worker."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated, Any

import typer

from adapters.cli_support import emit, handles_errors, out, session
from domain.errors import ValidationFailed

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def _password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ValidationFailed("--password-stdin: standard input held no password")
    return password


def _render_account(a: dict[str, Any]) -> None:
    roles = [r for r, on in (("security administrator", a["security_admin"]), ("state reviewer", a["state_reviewer"])) if on]
    out.print(f"{a['user_id']}\t{a['facility']}\tLevel {a['level']}\t{a['status']}"
              + (f"\t{', '.join(roles)}" if roles else "") + ("" if a["can_sign_in"] else "\t(no password: CLI only)"))


def register(app: typer.Typer, users_app: typer.Typer) -> None:  # noqa: C901 - one small function per command
    @users_app.command("add")
    @handles_errors
    def users_add(
        name: str,
        facility: Annotated[str, typer.Option(help="The user's facility.")],
        level: Annotated[int, typer.Option(help="Security group: 1 submits, 2 creates, 3 reads.")],
        security_admin: Annotated[bool, typer.Option("--security-admin", help="Manages its facility's users.")] = False,
        state_reviewer: Annotated[bool, typer.Option("--state-reviewer", help="Reads every facility.")] = False,
        password_stdin: PasswordStdin = False,
        as_json: Json = False,
    ) -> None:
        """Add a user (with --password-stdin, one who can sign in over HTTP)."""
        password = _password(password_stdin)
        with session() as (_, registry, _config):
            account = registry.add(name, facility, level, password=password, security_admin=security_admin,
                                   state_reviewer=state_reviewer)
        emit(account.as_dict(), as_json, lambda a: out.print(
            f"added {a['user_id']} (facility {a['facility']}, Level {a['level']})"))

    @users_app.command("list")
    @handles_errors
    def users_list(as_json: Json = False) -> None:
        """List the users with their security group, roles and sign-in status."""
        with session() as (_, registry, _config):
            rows = [account.as_dict() for account in registry.all()]
        def render(users: list[dict[str, Any]]) -> None:
            for user in users:
                _render_account(user)

        emit(rows, as_json, render)

    @users_app.command("unlock")
    @handles_errors
    def users_unlock(name: str, as_json: Json = False) -> None:
        """Unlock after failed sign-ins or six months' inactivity."""
        with session() as (_, registry, _config):
            emit(registry.unlock(name).as_dict(), as_json, _render_account)

    @users_app.command("re-establish")
    @handles_errors
    def users_reestablish(name: str, password_stdin: PasswordStdin = False, as_json: Json = False) -> None:
        """Re-establish an account (a year without signing in) with a new password."""
        password = _password(password_stdin)
        if password is None:
            raise ValidationFailed("re-establishing needs a new password: pass --password-stdin")
        with session() as (_, registry, _config):
            emit(registry.reestablish(name, password).as_dict(), as_json, _render_account)

    @app.command()
    @handles_errors
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        workers: Annotated[int, typer.Option(help="Server processes (PostgreSQL for more than one).")] = 1,
        projector: Annotated[bool, typer.Option(help="Keep the read models current in this process.")] = True,
    ) -> None:
        """Run the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
        from adapters.http.app import serve as run
        from adapters.storage import store_config

        if workers > 1 and store_config().kind == "sqlite":
            raise ValidationFailed("--workers above 1 needs PostgreSQL (set NIMRS_DATABASE_URL)")
        run(host, port, workers, projector)

    webhooks_app = typer.Typer(help="Webhook deliveries to integrators.", no_args_is_help=True)
    app.add_typer(webhooks_app, name="webhooks")

    @webhooks_app.command("run")
    @handles_errors
    def webhooks_run(
        max_attempts: Annotated[int, typer.Option(help="Dead-letter a delivery after this many failures.")] = 8,
        backoff: Annotated[str, typer.Option(help="Seconds to wait after each failure, comma-separated.")] =
            "5,30,120,600,1800,7200",
        timeout: Annotated[float, typer.Option(help="Seconds to wait for a receiver.")] = 10.0,
    ) -> None:
        """Deliver events to the webhook subscriptions until stopped (Ctrl-C or SIGTERM)."""
        from adapters.webhook_worker import DeliveryPolicy

        try:
            delays = tuple(float(part) for part in backoff.split(","))
        except ValueError:
            raise ValidationFailed(f"--backoff must be seconds separated by commas, got {backoff!r}") from None
        if max_attempts < 1 or not delays or min(delays) < 0 or timeout <= 0:
            raise ValidationFailed("--max-attempts must be 1 or more, --backoff not negative, --timeout positive")
        asyncio.run(_run_worker(DeliveryPolicy(max_attempts=max_attempts, backoff=delays, timeout=timeout)))


async def _run_worker(policy: Any) -> None:
    from sqlalchemy import create_engine

    from adapters.feed import Feed
    from adapters.storage import open_service, store_config
    from adapters.webhook_worker import WebhookWorker
    from adapters.webhooks import WebhookStore

    config = store_config()
    service = open_service(config)
    engine = create_engine(config.sqlalchemy_url)
    worker = WebhookWorker(WebhookStore(engine, service.clock), Feed(service.store), policy)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    out.print(f"delivering webhooks from {config.describe()} (Ctrl-C stops)")
    try:
        await worker.run(stop)
    finally:
        engine.dispose()
        service.store.close()
