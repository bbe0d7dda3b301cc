"""Jinja2 templates for the pages, with the filters every page uses to show times to a person."""

from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from adapters import local_time
from adapters.http.context import context
from adapters.http.pages.details_form import FIELD_LABELS
from adapters.http.pages.obligations_shown import clock_title
from adapters.naming import incident_label
from domain.lifecycle import State, Step

TEMPLATES = Path(__file__).resolve().parent / "templates"
environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                          trim_blocks=True, lstrip_blocks=True)
environment.filters.update(local_time=local_time.local_time, local_date=local_time.local_date, days=local_time.days)

STATE_NAMES = {State.JC_IMPORT_QUEUE.value: "JC import queue", State.DRAFT.value: "Draft",
               State.EMAILED_TO_OMH.value: "Emailed to OMH", State.REPORT_OF_DEATH_SUBMITTED.value: "Report of Death sent to the JC",
               State.UNDER_INVESTIGATION.value: "Under investigation", State.CLOSED.value: "Closed"}
STEP_NAMES = {step.value: step.value.replace("_", " ").capitalize() for step in Step}
STEP_NAMES.update({Step.EMAIL_OMH.value: "Email OMH", Step.SUBMIT_REPORT_OF_DEATH.value: "Email JC (Report of Death)",
                   Step.IMPORT_REPORT.value: "Import from the JC queue"})
environment.globals.update(state_name=lambda value: STATE_NAMES.get(str(value), str(value)),
                           step_name=lambda value: STEP_NAMES.get(str(value), str(value)),
                           step_path=lambda value: Step(str(value)).command_name)  # the route: the CLI's name


@functools.lru_cache(maxsize=512)
def _options(choices: tuple[tuple[str, str], ...], current: str) -> Markup:
    return Markup("".join(f'<option value="{escape(value)}"{" selected" if value == current else ""}>{escape(label)}</option>'
                          for value, label in choices))


def options(choices: Any, current: Any) -> Markup:
    """``<option>``s for a pick list, the current value selected: built once per list and value (the taxonomy's
    55 types are on every incident page)."""
    return _options(tuple((str(c.value), str(c.label)) for c in choices), "" if current is None else str(current))


def stripped(text: str | None) -> str | None:
    """A form or query value as typed, without surrounding spaces; None when nothing was typed."""
    return text.strip() if text and text.strip() else None


def query(**values: Any) -> str:
    """A query string of the values given (None and "" left out)."""
    return urlencode({k: v for k, v in values.items() if v is not None and v != ""})


def field_label(name: str) -> str:
    """A stored field's name as the screens label it (``details.location`` → Location)."""
    return FIELD_LABELS.get(name.removeprefix("details."), name.removeprefix("details.").replace("_", " "))


environment.globals.update(query=query, options=options, field_label=field_label, incident_label=incident_label,
                           clock_title=clock_title)


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A whole page, or only its ``main`` block for an htmx request that targets it."""
    now = context(request).clock()
    values.setdefault("who", getattr(request.state, "principal", None))
    values.setdefault("csrf", getattr(request.state, "csrf", ""))
    values.update(now=now, due=lambda at: local_time.due(at, now), relative=lambda at: local_time.relative(at, now),
                  path=request.url.path, rendering=secrets.token_hex(4))  # tests wait for a new rendering
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status)
