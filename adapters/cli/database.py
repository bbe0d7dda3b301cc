"""``nimrs db``: the schema of the tables beside the event store (accounts, security log, webhooks, views)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from adapters.cli.support import emit, handles_errors, settings
from adapters.cli.tables import Wide, show, table

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _render(revisions: dict[str, dict[str, Any]], wide: bool) -> None:
    listed = table("database", "revision", "newest")
    for name, revision in revisions.items():
        listed.add_row(name, revision["current"] or "(none)", revision["head"])
    show(listed, wide)


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Schema migrations of the tables beside the event store.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    @handles_errors
    def upgrade(wide: Wide = False, as_json: Json = False) -> None:
        """Bring the accounts', webhooks' and views' tables to the newest schema (every command does it on start)."""
        from adapters.bootstrap import Runtime

        with Runtime(settings()) as runtime:
            emit(runtime.migrate(), as_json, lambda data: _render(data, wide))

    @db_app.command("status")
    @handles_errors
    def status(wide: Wide = False, as_json: Json = False) -> None:
        """Each database's schema revision and the newest one, without changing anything."""
        from adapters.persistence.engines import build_engine
        from adapters.persistence.migrate import status as revisions

        chosen = settings()
        events, views = build_engine(chosen.database), build_engine(chosen.views, views=True)
        try:
            emit({**revisions(events), "views": revisions(views)["views"]}, as_json, lambda data: _render(data, wide))
        finally:
            events.dispose()
            views.dispose()
