"""Plumbing shared by the CLI commands: errors without stack traces, output, the runtime, incident ids.

Every command imports this module, ``nimrs --help`` too: it imports only typer, rich's console and the domain's
errors. The settings, the stores and their drivers are imported when a command first asks for them.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from domain.errors import NimrsError
from domain.vpcr import incident_id_for

if TYPE_CHECKING:
    from adapters.bootstrap import Runtime
    from adapters.settings import Settings

# Exit codes scripts can rely on (docs/cli.md).
EXIT_CODES = {"validation": 3, "not_found": 4, "forbidden": 5, "unauthenticated": 5, "conflict": 6, "unreadable": 7, "tampered": 8,
              "error": 1}
UNAVAILABLE = 7
# adapters.settings.env_name("user"), spelled out: importing the settings (pydantic, SQLAlchemy) for a name would
# cost every command's start, `--help` too (tests/adapters/test_cli_startup.py checks the two agree).
USER_VARIABLE = "NIMRS_USER"

out = Console(soft_wrap=True)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
# Who asks, for the commands that read (the workflow's commands say "who acts"; `audit reads` says who may ask).
As = Annotated[str, typer.Option("--as", envvar=USER_VARIABLE, help="Who asks (a user of `nimrs users add`).")]


def emit(data: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    if as_json or render is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(data)


def fail(kind: str, message: str, problems: list[str], as_json: bool, code: int) -> None:
    if as_json:
        document = {"error": kind, "message": message, "problems": problems}
        sys.stderr.write(json.dumps(document) + "\n")
    else:
        err.print(f"[bold red]error:[/] {message}", highlight=False)
        for problem in problems:
            err.print(f"  - {problem}", highlight=False)
    raise typer.Exit(code)


def handles_errors(fn: F) -> F:
    """Turn every expected failure into a message and an exit code: never a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except NimrsError as error:
            fail(error.kind, error.message, error.problems, as_json, EXIT_CODES.get(error.kind, 1))
        except unusable_store() as error:  # evaluated only when something else went wrong
            fail("unavailable", f"cannot use the store ({_describe_store()}): {error}", [], as_json, UNAVAILABLE)

    return wrapper  # type: ignore[return-value]


@functools.cache
def unusable_store() -> tuple[type[Exception], ...]:
    """What says the store cannot be used: its drivers' errors, and ``OSError`` (a SQLite file that cannot be opened)."""
    from adapters.persistence.errors import STORE_ERRORS

    return (*STORE_ERRORS, OSError)


def _describe_store() -> str:
    from adapters.settings import env_name, load_settings

    try:
        return load_settings().describe_database()
    except NimrsError:
        return env_name("database_url")


def settings() -> Settings:
    """The settings, read now (a bad value is a ``ValidationFailed``: exit 3, naming the variable)."""
    from adapters.settings import load_settings

    return load_settings()


@contextmanager
def session() -> Iterator[Runtime]:
    """The process's parts, built as a command first uses them, and released after it."""
    from adapters.bootstrap import Runtime

    with Runtime(settings()) as runtime:
        yield runtime
        _seal(runtime)


def _seal(runtime: Runtime) -> None:
    """Seal what the command wrote, so a deployment without a server has its chain too (docs/adr/0010)."""
    try:
        runtime.seal_written()
    except unusable_store() as error:  # the command did its work; a server or `nimrs seal` seals later
        err.print(f"warning: the new events are not sealed yet ({type(error).__name__}); `nimrs seal` seals them",
                  highlight=False)


incident_id = incident_id_for
