"""One name per step: the lifecycle's Step is the aggregate's command, the use case, the permission,
and (with hyphens) the CLI command and the HTTP route."""

import typer

from adapters.cli.main import app
from adapters.http import incidents, ledger
from domain.incident import Incident
from domain.lifecycle import Step
from workflows.permissions import ALLOWED
from workflows.service import IncidentService


def test_every_step_has_one_name_everywhere() -> None:
    commands = set(typer.main.get_group(app).commands)
    routes = {route.path for module in (incidents, ledger) for route in module.router.routes}  # type: ignore[attr-defined]
    for step in Step:
        assert callable(getattr(Incident, step.value)), step
        assert callable(getattr(IncidentService, step.value)), step
        assert step in ALLOWED, step
        assert step.command_name in commands, step
        assert any(path.startswith(f"/incidents/{{reference}}/{step.command_name}") for path in routes), step
