"""The long-running processes: ``nimrs serve`` (the HTTP API) and ``nimrs webhooks run`` (the delivery worker)."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.support import err, handles_errors, out, settings
from domain.errors import ValidationFailed

if TYPE_CHECKING:
    import asyncio


def register(app: typer.Typer) -> None:
    @app.command()
    @handles_errors
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        workers: Annotated[int, typer.Option(help="Server processes (PostgreSQL for more than one).")] = 1,
        projector: Annotated[bool, typer.Option(help="Keep the read models current in this process.")] = True,
    ) -> None:
        """Run the web pages (at /) and the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
        from adapters.bootstrap import Runtime
        from adapters.http.app import serve as run

        chosen = settings()
        if workers > 1 and chosen.store_kind == "sqlite":
            raise ValidationFailed("--workers above 1 needs PostgreSQL (set NIMRS_DATABASE_URL)")
        with Runtime(chosen) as runtime:
            runtime.migrate()  # once, before any worker starts
        err.print(f"nimrs: the web pages at http://{host}:{port}/ (sign in), the API beside them "
                  f"(http://{host}:{port}/docs); {chosen.describe_database()}", highlight=False)
        run(host, port, workers, projector, chosen)

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
        import asyncio

        from adapters.bootstrap import Runtime
        from adapters.integrations.webhook_worker import DeliveryPolicy

        try:
            delays = tuple(float(part) for part in backoff.split(","))
        except ValueError:
            raise ValidationFailed(f"--backoff must be seconds separated by commas, got {backoff!r}") from None
        if max_attempts < 1 or not delays or min(delays) < 0 or timeout <= 0:
            raise ValidationFailed("--max-attempts must be 1 or more, --backoff not negative, --timeout positive")
        chosen = settings()
        with Runtime(chosen) as runtime:
            worker = runtime.webhook_worker(DeliveryPolicy(max_attempts=max_attempts, backoff=delays, timeout=timeout))
            out.print(f"delivering webhooks from {chosen.describe_database()} (Ctrl-C stops)")
            asyncio.run(_until_stopped(worker.run))


async def _until_stopped(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run(stop)
