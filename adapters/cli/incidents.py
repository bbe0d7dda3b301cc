"""CLI commands for the incident workflow, each run as a named user (``--as``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.support import USER_VARIABLE, emit, handles_errors, incident_id, out, session
from adapters.cli.tables import line
from adapters.local_time import days, local_time, readable
from domain.errors import ValidationFailed
from domain.rules import DEFAULT_RULE_SET

if TYPE_CHECKING:
    from uuid import UUID

    from domain.actor import Actor
    from domain.incident import Incident
    from workflows.service import IncidentService

As = Annotated[str, typer.Option("--as", envvar=USER_VARIABLE, help="Who acts (a user of `nimrs users add`).")]
Ref = Annotated[str, typer.Argument(help="Incident id, or its JC case number.")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
Expect = Annotated[int | None, typer.Option("--expect-version", help="Refuse if the incident has moved on.")]
Sets = Annotated[list[str] | None, typer.Option("--set", help="field=value; value as JSON where it parses.")]
FieldsFile = Annotated[Path | None, typer.Option("--file", help="JSON object of the screen's fields.")]


def parse_fields(sets: list[str] | None, file: Path | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_text())
        except (OSError, ValueError) as error:
            raise ValidationFailed(f"cannot read fields from {file}: {error}") from None
        if not isinstance(loaded, dict):
            raise ValidationFailed(f"{file} must hold a JSON object of field names to values")
        fields.update(loaded)
    for item in sets or []:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise ValidationFailed(f"--set {item!r} must look like field=value")
        try:
            fields[name] = json.loads(raw)
        except ValueError:
            fields[name] = raw
    return fields


def _show(service: IncidentService, actor: Actor, incident: Incident, as_json: bool) -> None:
    from workflows.screens import describe

    view = describe(incident, actor, service.clock())

    def render(v: dict[str, Any]) -> None:
        line(f"{v['id']}  JC case {v['jc_case_number'] or '-'}  v{v['version']}")
        line(f"state {v['state']}  route {v['route'] or 'not yet classified'}  "
             f"{v['facility']} / {v['program']} ({v['setting']})")
        line(f"summary: {v['summary']}")
        for name, value in v["details"].items():
            line(f"{name}: {readable(value)}", indent=2)
        if v["missing_details"]:
            line(f"missing for Email OMH: {', '.join(v['missing_details'])}")
        for clock in v["clocks"]:
            late = f", {days(clock['days_late'] * 24)} late" if clock["days_late"] else ""
            note = " (provisional)" if clock["provisional"] else ""
            line(f"clock {clock['name']}: due {local_time(clock['due'])} - {clock['status'].replace('_', ' ')}"
                 f"{late}{note}")
        ledger = v["ledger"]
        for recipient in ledger["recipients"]:
            line(f"owed notice: {recipient['recipient_id']} ({recipient['role'].replace('_', ' ')}) {recipient['name']}")
        for notice in ledger["notifications"]:
            line(f"notified {notice['recipient_id']} {local_time(notice['notified_at'])} by {notice['method']}: "
                 f"{notice['outcome'].replace('_', ' ')}", indent=2)
        for request in ledger["requests"]:
            line(f"request {request['request_id']} ({request['kind'].replace('_', ' ')}) received "
                 f"{local_time(request['received_at'])}")
        line(f"obligation rules {v['obligation_rules']}; allowed actions: {', '.join(v['allowed_actions']) or 'none'}")

    emit(view, as_json, render)


def _step(user: str, reference: str, as_json: bool, run: Callable[[IncidentService, Actor, UUID], Incident]) -> None:
    """Run a step and show the incident it left (a write's answer, not a read: the event records who acted)."""
    with session() as runtime:
        actor = runtime.accounts.get(user)
        _show(runtime.service, actor, run(runtime.service, actor, incident_id(reference)), as_json)


def register(app: typer.Typer) -> None:  # noqa: C901 - one small function per command
    @app.command()
    @handles_errors
    def receive(file: Annotated[Path, typer.Argument(help="VPCR report JSON: one object, or a list (bulk).")],
                user: As, as_json: Json = False) -> None:
        """Receive VPCR reports into the JC import queue (a re-delivered report is not duplicated)."""
        from adapters.integrations.vpcr import read_vpcr_file

        reports = read_vpcr_file(file)
        with session() as runtime:
            receipt = runtime.service.receive_vpcr_reports(runtime.accounts.get(user), reports)
        result = {"received": [str(i) for i in receipt.received], "duplicates": [str(i) for i in receipt.duplicates]}
        emit(result, as_json, lambda r: out.print(
            f"received {len(r['received'])} new report(s), {len(r['duplicates'])} already in the queue\n"
            + "\n".join(r["received"] + r["duplicates"])))

    @app.command()
    @handles_errors
    def create(user: As, program: Annotated[str, typer.Option()], setting: Annotated[str, typer.Option()],
               code: Annotated[str, typer.Option(help="Taxonomy code.")], summary: Annotated[str, typer.Option()],
               rules: Annotated[str, typer.Option("--rules")] = DEFAULT_RULE_SET, as_json: Json = False) -> None:
        """New Incident: enter an incident directly (OMH-only, or recorded locally)."""
        with session() as runtime:
            actor = runtime.accounts.get(user)
            iid = runtime.service.create_incident(actor, program=program, setting=setting, code=code, summary=summary,
                                                  rules=rules)
            _show(runtime.service, actor, runtime.service.load(iid), as_json)

    @app.command("import-report")
    @handles_errors
    def import_report(reference: Ref, user: As, expect: Expect = None, as_json: Json = False) -> None:
        """Import a VPCR report from the JC import queue as a NIMRS incident (draft)."""
        _step(user, reference, as_json, lambda s, a, i: s.import_report(a, i, expect))

    @app.command("record-details")
    @handles_errors
    def record_details(reference: Ref, screen: Annotated[str, typer.Argument(help="incident, clients, staff, narrative, "
                                                                     "notifications or severity")],
               user: As, sets: Sets = None, file: FieldsFile = None, expect: Expect = None, as_json: Json = False) -> None:
        """Record details on one screen of a draft."""
        fields = parse_fields(sets, file)
        _step(user, reference, as_json, lambda s, a, i: s.record_details(a, i, screen, fields, expect))

    @app.command()
    @handles_errors
    def amend(reference: Ref, screen: str, user: As, reason: Annotated[str, typer.Option()],
              sets: Sets = None, file: FieldsFile = None, expect: Expect = None, as_json: Json = False) -> None:
        """Amend a submitted incident's details, with a reason (Level 1)."""
        fields = parse_fields(sets, file)
        _step(user, reference, as_json, lambda s, a, i: s.amend(a, i, screen, fields, reason, expect))

    @app.command("email-omh")
    @handles_errors
    def email_omh(reference: Ref, user: As, expect: Expect = None, as_json: Json = False) -> None:
        """Submit the completed incident to OMH (Level 1)."""
        _step(user, reference, as_json, lambda s, a, i: s.email_omh(a, i, expect))

    @app.command("submit-report-of-death")
    @handles_errors
    def submit_report_of_death(reference: Ref, user: As, expect: Expect = None, as_json: Json = False) -> None:
        """Submit the Report of Death to the JC (Level 1)."""
        _step(user, reference, as_json, lambda s, a, i: s.submit_report_of_death(a, i, expect))

    @app.command("start-investigation")
    @handles_errors
    def start_investigation(reference: Ref, user: As, expect: Expect = None, as_json: Json = False) -> None:
        """Start the investigation of a submitted incident."""
        _step(user, reference, as_json, lambda s, a, i: s.start_investigation(a, i, expect))

    @app.command("document-findings")
    @handles_errors
    def document_findings(reference: Ref, user: As, findings: Annotated[str, typer.Option()],
                          expect: Expect = None, as_json: Json = False) -> None:
        """Document the investigation's findings."""
        _step(user, reference, as_json, lambda s, a, i: s.document_findings(a, i, findings, expect))

    @app.command()
    @handles_errors
    def close(reference: Ref, user: As, expect: Expect = None, as_json: Json = False) -> None:
        """Close the incident (Level 1); needs documented findings."""
        _step(user, reference, as_json, lambda s, a, i: s.close(a, i, expect))

    @app.command()
    @handles_errors
    def reopen(reference: Ref, user: As, reason: Annotated[str, typer.Option()], expect: Expect = None,
               as_json: Json = False) -> None:
        """Reopen a closed incident, with a reason (Level 1)."""
        _step(user, reference, as_json, lambda s, a, i: s.reopen(a, i, reason, expect))

    @app.command()
    @handles_errors
    def show(reference: Ref, user: As, version: Annotated[int | None, typer.Option(help="As of this version.")] = None,
             as_json: Json = False) -> None:
        """Show an incident: state, details, clocks and the actions you may take."""
        with session() as runtime:
            actor = runtime.accounts.get(user)
            _show(runtime.service, actor, runtime.service.incident(actor, incident_id(reference), version), as_json)

    @app.command()
    @handles_errors
    def history(reference: Ref, user: As, as_json: Json = False) -> None:
        """Every event of an incident: what, when and who."""
        from workflows.screens import event_record

        with session() as runtime:
            records = [event_record(e) for e in runtime.service.history(runtime.accounts.get(user), incident_id(reference))]
        def render(rows: list[dict[str, Any]]) -> None:
            for r in rows:
                who = r["actor"]["user_id"] if r["actor"] else "-"
                line(f"v{r['version']}  {local_time(r['recorded_at'])}  {r['event']} by {who}")
                if r["data"]:
                    line(readable(r["data"]), indent=2)

        emit(records, as_json, render)
