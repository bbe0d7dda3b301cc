"""``nimrs alerts``: alerts by email. ``run`` routes alerts to the outbox and sends them (the long-running
worker); ``dead`` and ``retry`` let a security administrator see and re-send mail that could not be delivered."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.support import As, emit, err, handles_errors, out, session, settings
from adapters.local_time import local_time
from domain.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from adapters.bootstrap import Runtime
    from workflows.accounts import Principal

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def register(app: typer.Typer) -> None:
    alerts_app = typer.Typer(help="Alerts by email: clocks due soon or missed, receipts.", no_args_is_help=True)
    app.add_typer(alerts_app, name="alerts")

    @alerts_app.command("run")
    @handles_errors
    def alerts_run(
        once: Annotated[bool, typer.Option("--once", help="One pass (route, then send what is due), then stop.")] = False,
        max_attempts: Annotated[int, typer.Option(help="Dead-letter a mail after this many failures.")] = 8,
        backoff: Annotated[str, typer.Option(help="Seconds to wait after each failure, comma-separated.")] =
            "60,300,900,1800,3600,7200",
        timeout: Annotated[float, typer.Option(help="Seconds to wait for the SMTP server.")] = 30.0,
        poll: Annotated[float, typer.Option(help="Seconds between passes.")] = 1.0,
        lease: Annotated[float, typer.Option(help="Seconds a mail being sent is left alone by other workers, "
                                                  "and after a crash.")] = 300.0,
        as_json: Json = False,
    ) -> None:
        """Route alerts (each facility's rules: nimrs facility alerts) to the outbox and send them to NIMRS_SMTP_URL until stopped
        (Ctrl-C or SIGTERM), or once."""
        from adapters.bootstrap import Runtime
        from adapters.mail.worker import DeliveryPolicy

        try:
            delays = tuple(float(part) for part in backoff.split(","))
        except ValueError:
            raise ValidationFailed(f"--backoff must be seconds separated by commas, got {backoff!r}") from None
        if max_attempts < 1 or not delays or min(delays) < 0 or timeout <= 0 or poll <= 0 or lease <= 0:
            raise ValidationFailed("--max-attempts must be 1 or more, --backoff not negative, "
                                   "--timeout, --poll and --lease positive")
        chosen = settings()
        policy = DeliveryPolicy(max_attempts=max_attempts, backoff=delays, timeout=timeout, poll=poll, lease=lease)
        with Runtime(chosen) as runtime:
            worker = runtime.mail_worker(policy)
            if once:
                done = worker.run_once()
                emit(done._asdict(), as_json,
                     lambda d: out.print(f"routed {d['routed']}, sent {d['sent']}, failed {d['failed']}"))
                return
            err.print(f"sending alert mail from {chosen.describe_database()} to {chosen.describe_smtp()} "
                      "(Ctrl-C stops)", highlight=False)
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            worker.run(stop)

    @alerts_app.command("dead")
    @handles_errors
    def alerts_dead(user: As, limit: Annotated[int, typer.Option(help="At most this many, oldest first.")] = 100,
                    as_json: Json = False) -> None:
        """Alert mail that could not be delivered (security administrators: their facility's)."""
        from workflows.alerts import dead_letters_facility

        with session() as runtime:
            facility = dead_letters_facility(_principal(runtime, user))
            dead = runtime.mail_outbox.dead(facility, max(1, min(limit, 1000)))
        emit(dead, as_json, _render)

    @alerts_app.command("retry")
    @handles_errors
    def alerts_retry(message_id: Annotated[str, typer.Argument(help="The mail's id (from `nimrs alerts dead`).")],
                     user: As, as_json: Json = False) -> None:
        """Put an undelivered alert mail back in the queue, to be sent at the next pass."""
        from workflows.alerts import dead_letters_facility

        with session() as runtime:
            facility = dead_letters_facility(_principal(runtime, user))
            if not runtime.mail_outbox.retry(message_id, facility, runtime.clock()):
                raise NotFound(f"no undelivered alert mail {message_id!r}"
                               + (f" in facility {facility!r}" if facility else ""))
        emit({"message_id": message_id, "status": "pending"}, as_json,
             lambda _: out.print(f"{message_id} is queued again", highlight=False))


def _principal(runtime: Runtime, user: str) -> Principal:
    from workflows.accounts import Principal

    account = runtime.accounts.account(user)
    return Principal(account.actor, account.security_admin)


def _render(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("no undelivered alert mail")
    for row in rows:
        out.print(f"{row['message_id']}  {row['facility']}  to {row['to']}  {row['attempts']} attempts, "
                  f"queued {local_time(row['created_at'])}: {row['last_error'] or ''}", highlight=False)
        out.print(f"  {row['subject']}", highlight=False)
