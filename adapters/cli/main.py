"""The ``nimrs`` command line (the console script's entry point). Every query takes ``--json`` for machine-readable output.

The commands live beside this module: ``incidents`` (the workflow), ``ledger`` (the notification ledger's steps),
``views`` (read models, auditors, projectors), ``users``, ``server`` (``serve``, ``webhooks run``), ``alerts`` (mail)
and ``tooling`` (``demo``, ``generate``, ``bench``); the charts' own commands (``taxonomy``, ``classify``, ``severity``)
and ``keygen`` are here.

A command starts quickly: registering every command imports only typer, rich's console and the domain's charts
(each command imports what it uses when it runs), and ``main()`` hands typer only the command asked for.
"""

from __future__ import annotations

import copy
import sys
from base64 import b64encode
from collections.abc import Sequence
from os import urandom
from typing import Annotated, Any

import typer

from adapters.cli import (
    alerts,
    clocks,
    database,
    incidents,
    integrity,
    keys,
    ledger,
    obligations,
    readers,
    records,
    search,
    server,
    tooling,
    users,
    views,
)
from adapters.cli.support import emit, handles_errors, out
from adapters.cli.tables import Wide, show, table
from domain import severity
from domain.errors import ValidationFailed
from domain.reportability import Facts, classify
from domain.rules import DEFAULT_RULE_SET, rule_set
from domain.vocabulary import parse_setting

app = typer.Typer(help="nimrs: incident reporting and workflow for NY mental health providers.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
users_app = typer.Typer(help="The local user registry.", no_args_is_help=True)
app.add_typer(users_app, name="users")
incidents.register(app)
ledger.register(app)
views.register(app)
obligations.register(app)
search.register(app)
readers.register(views.audit_app)
users.register(users_app)
server.register(app)
tooling.register(app)
database.register(app)
keys.register(app)
integrity.register(app)
alerts.register(app)
clocks.register(app)
records.register(app)

Rules = Annotated[str, typer.Option("--rules", help="Rule set: current (chart 002) or earlier (chart 001).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _yes_no(value: str, option: str, yes: str, no: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in (yes, no):
        raise ValidationFailed(f"{option} must be {yes} or {no}, got {value!r}")
    return lowered == yes


@app.command()
@handles_errors
def taxonomy(rules: Rules = DEFAULT_RULE_SET, wide: Wide = False, as_json: Json = False) -> None:
    """List every incident type and subtype of a rule set."""
    entries = [entry.as_dict() for entry in rule_set(rules).entries]

    def render(rows: list[dict[str, Any]]) -> None:
        if wide:
            listed = table("code", "type", "subtype", "route", "harm", "clocks", title=f"rule set {rules}")
        else:  # 80 columns: type and subtype in one cell, harm with --wide
            listed = table("code", "type", "route", "clocks", title=f"rule set {rules}")
        for row in rows:
            clocks = ", ".join(f"{c['name']} {c['days']} days" for c in row["clocks"])  # type: ignore[index]
            kind = ((row["type"], row["subtype"] or "") if wide
                    else (f"{row['type']}: {row['subtype']}" if row["subtype"] else row["type"],))
            listed.add_row(row["code"], *kind, row["route"], *((row["harm"],) if wide else ()), clocks)
        show(listed, wide)

    emit(entries, as_json, render)


@app.command("severity")
@handles_errors
def severity_ratings(as_json: Json = False) -> None:
    """The harm and risk ratings and the definition of serious injury or harm."""
    def render(data: dict[str, Any]) -> None:
        for factor in ("harm", "risk"):
            out.print(f"[bold]{factor}[/]: {data[factor]['guidance']}")
            for rating in data[factor]["ratings"]:
                out.print(f"  {rating['value']} {rating['label']}: " + "; ".join(rating["descriptors"]))
        out.print(f"[bold]serious injury or harm[/]: {data['serious_injury_or_harm']['definition']}")

    emit(severity.as_dict(), as_json, render)


@app.command("classify")
@handles_errors
def classify_command(
    code: Annotated[str, typer.Argument(help="Taxonomy code, e.g. si.fall (see `nimrs taxonomy`).")],
    setting: Annotated[str, typer.Option(help="inpatient, residential, cpep or outpatient.")],
    premises: Annotated[str, typer.Option(help="on: on premises or under supervision; off: neither.")],
    serious_harm: Annotated[str, typer.Option("--serious-harm", help="yes or no.")],
    age: Annotated[int | None, typer.Option(help="The patient's age, where the chart sets an age limit.")] = None,
    rules: Rules = DEFAULT_RULE_SET,
    as_json: Json = False,
) -> None:
    """Decide the reporting route, steps and clocks for an incident."""
    facts = Facts(parse_setting(setting), _yes_no(premises, "--premises", "on", "off"),
                  _yes_no(serious_harm, "--serious-harm", "yes", "no"), age)
    result = classify(rule_set(rules), code, facts).as_dict()

    def render(data: dict[str, Any]) -> None:
        out.print(f"[bold]{data['route']}[/]  {data['code']} ({data['type']}{' - ' + data['subtype'] if data['subtype'] else ''})")
        for reason in data["reasons"]:
            out.print(f"  - {reason}")
        for clock in data["clocks"]:
            out.print(f"  clock {clock['name']}: {clock['days']} days")
        for number, step in enumerate(data["steps"], 1):
            out.print(f"  {number}. {step}")

    emit(result, as_json, render)


@app.command()
@handles_errors
def keygen(as_json: Json = False) -> None:
    """Print a new random key for NIMRS_CIPHER_KEY (encryption at rest)."""
    key = b64encode(urandom(32)).decode()
    emit({"NIMRS_CIPHER_KEY": key}, as_json, lambda _: typer.echo(key))


def only_invoked(arguments: Sequence[str]) -> typer.Typer | None:
    """The app with only the command (or group of commands) named first, or None where the whole app must answer
    (``--help``, no command, a name it does not know). Typer turns every registered command's signature into
    options before it runs one: about 0.1 s for all of them, otherwise paid by each command."""
    if not arguments:
        return None
    commands = [c for c in app.registered_commands
                if (c.name or typer.main.get_command_name(c.callback.__name__ if c.callback else "")) == arguments[0]]
    groups = [g for g in app.registered_groups if g.name == arguments[0]]
    if not commands and not groups:
        return None
    alone = copy.copy(app)
    alone.registered_commands, alone.registered_groups = commands, groups
    return alone


def main() -> None:
    alone = only_invoked(sys.argv[1:])
    if alone is None:
        app()
    else:  # a group always, as the whole app is: with a single command typer would take its name for an argument
        typer.main.get_group(alone)()


if __name__ == "__main__":
    main()

