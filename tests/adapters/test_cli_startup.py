"""A command imports what it uses and no more: `nimrs show`, `nimrs overdue` and `nimrs --help` run as a user runs
them (a real process on a real SQLite store), under ``python -X importtime``, which names every module imported.
This guards the lazy imports of adapters/cli and adapters/bootstrap without timing anything (``nimrs bench cli``
measures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from adapters.bootstrap import Runtime
from adapters.cli import choices, support
from adapters.cli.main import app, only_invoked
from adapters.settings import env_name, load_settings
from domain.actor import Actor
from domain.vocabulary import Level
from tests.adapters.test_cli import NIMRS

WEB_AND_DOCUMENTS = ("fastapi", "starlette", "uvicorn", "httpx", "reportlab", "adapters.http", "adapters.mail",
                     "adapters.documents", "adapters.integrations.webhook_worker", "adapters.projection_runner")
# Reading views: the projector, the read models, the progress bars of a rebuild. `show` reads the event store only.
VIEWS = ("projections.reads", "projections.projector", "rich.progress")
# A SQLite store without a key needs neither PostgreSQL's driver nor the crypto.
NOT_ON_SQLITE_WITHOUT_A_KEY = ("psycopg", "eventsourcing.postgres", "eventsourcing.cipher", "adapters.persistence.postgres_store")
STORES = ("sqlalchemy", "eventsourcing", "psycopg", "pydantic_settings", "adapters.settings", "adapters.bootstrap",
          "adapters.persistence", "projections")


@pytest.fixture
def store(tmp_path: Path) -> tuple[dict[str, str], str]:
    """A SQLite store with one incident and a Level 1 user of its facility; the environment naming both."""
    url = f"sqlite:///{tmp_path}/events.db"
    with Runtime(load_settings({**os.environ, "NIMRS_DATABASE_URL": url})) as runtime:
        runtime.accounts.add("risk", "F-001", 1)
        created = runtime.service.create_incident(Actor("risk", "F-001", Level.SUBMITTER), program="Clinic 1",
                                                  setting="outpatient", code="si.fall", summary="Fell in the hall.")
    return {**os.environ, "NIMRS_DATABASE_URL": url, "NIMRS_USER": "risk", "COLUMNS": "80"}, str(created)


def imported_by(*args: str, environ: dict[str, str]) -> set[str]:
    """Every module ``nimrs ARGS`` imports (the command must succeed)."""
    done = subprocess.run([sys.executable, "-X", "importtime", NIMRS, *args], capture_output=True, text=True,
                          env=environ, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "[us]" not in line}


def found(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    """The modules of ``roots`` (a root or anything under it) among ``modules``."""
    return sorted(m for m in modules if any(m == root or m.startswith(root + ".") for root in roots))


def test_show_reads_the_event_store_without_the_web_stack_documents_or_views(store: tuple[dict[str, str], str]) -> None:
    environ, incident = store
    modules = imported_by("show", incident, "--json", environ=environ)
    assert "workflows.screens" in modules and "adapters.persistence.event_store" in modules  # the check sees imports
    assert found(modules, WEB_AND_DOCUMENTS + VIEWS + NOT_ON_SQLITE_WITHOUT_A_KEY) == []


def test_overdue_reads_its_view_without_the_web_stack_or_documents(store: tuple[dict[str, str], str]) -> None:
    environ, _ = store
    modules = imported_by("overdue", "--json", environ=environ)
    assert "projections.reads" in modules
    assert found(modules, WEB_AND_DOCUMENTS + ("rich.progress",)) == []


def test_help_imports_no_store_no_settings_and_no_view(store: tuple[dict[str, str], str]) -> None:
    environ, _ = store
    modules = imported_by("--help", environ=environ)
    assert "adapters.cli.views" in modules  # every command is listed
    assert found(modules, WEB_AND_DOCUMENTS + VIEWS + STORES) == []


def test_every_command_runs_on_its_own_under_its_name() -> None:
    """``main()`` hands typer only the command named first; each name typer knows finds its command alone."""
    names = typer.main.get_group(app).commands
    for name in names:
        alone = only_invoked([name, "--help"])
        assert alone is not None, name
        assert list(typer.main.get_group(alone).commands) == [name]
    assert only_invoked(["--help"]) is None and only_invoked([]) is None and only_invoked(["no-such-command"]) is None


def test_the_values_spelled_out_for_a_quick_start_match_their_owners() -> None:
    from adapters.projection_runner.workers import DEFAULT_BATCH, REBUILD_BATCH
    from projections.incident_list import CLOCK_STATUSES
    from projections.overdue import OBLIGATION_STATUSES
    from projections.projector import VIEW_NAMES
    from projections.statistics import BY

    assert choices.VIEW_NAMES == VIEW_NAMES
    assert choices.STATISTICS_BY == BY
    assert choices.CLOCK_STATUSES == CLOCK_STATUSES
    assert choices.OBLIGATION_STATUSES == OBLIGATION_STATUSES
    assert choices.PROJECTION_BATCH == DEFAULT_BATCH
    assert choices.REBUILD_BATCH == REBUILD_BATCH
    assert env_name("user") == support.USER_VARIABLE
