"""Text output that fits the terminal (80 columns when piped): table cells wrap and lines wrap, nothing is cut
short with an ellipsis; ``--wide`` prints full values (whole incident ids) on one line, however wide."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, RenderableType
from rich.text import Text

from adapters.cli.support import out

if TYPE_CHECKING:
    from rich.table import Table

Wide = Annotated[bool, typer.Option("--wide", help="Every value in full (whole incident ids), on one line however wide the output gets.")]
UNLIMITED = 100_000  # a --wide console's width: each table takes its natural width


def table(*headers: str, title: str | None = None) -> Table:
    """A table whose cells wrap (folding a long word) rather than end in "…"."""
    from rich.table import Table  # only text output draws tables: --json does without

    made = Table(title=title)
    for header in headers:
        made.add_column(header, overflow="fold")
    return made


def show(renderable: RenderableType, wide: bool = False) -> None:
    """Print a table at the terminal's width, or with ``wide`` at its natural width."""
    (Console(width=UNLIMITED, soft_wrap=True) if wide else out).print(renderable)


def line(text: str, indent: int = 0) -> None:
    """One line of text, wrapped at the terminal's width; continuation lines are indented two more."""
    first = " " * indent
    wrapped = textwrap.fill(text, width=max(out.width, 20), initial_indent=first, subsequent_indent=first + "  ",
                            break_on_hyphens=False)
    out.print(Text(wrapped), soft_wrap=True, highlight=False)


