"""``nimrs obligations`` (every obligation of the pinned rules by status) and ``nimrs facility`` (a facility's own
settings: which obligation rules its new incidents pin, who is mailed which alerts, and who changed them).

Text is in New York time with the zone and fits 80 columns; ``--json`` and ``--csv`` keep ISO 8601 with the offset.
Alert rules hold email addresses: only the facility's security administrators and Level 1 users read them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.choices import OBLIGATION_STATUSES
from adapters.cli.support import As, emit, handles_errors, session
from adapters.cli.tables import Wide, line, show, table
from adapters.cli.view_text import STATUS_WORDS, clock_status
from adapters.cli.views import read_models
from adapters.local_time import local_time
from adapters.naming import incident_label
from domain.errors import ValidationFailed
from workflows.spreadsheets import csv_text

if TYPE_CHECKING:
    from adapters.bootstrap import Runtime
    from workflows.accounts import Principal
    from workflows.facilities import FacilitySetting

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
Csv = Annotated[bool, typer.Option("--csv", help="CSV output, for spreadsheets.")]
Facility = Annotated[str | None, typer.Option("--facility", help="Facility (default: your own).")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept with the change).")]
OBLIGATIONS_CSV_COLUMNS = ("incident_id", "jc_case_number", "facility", "program", "code", "key", "clock", "status",
                           "provisional", "length", "unit", "start", "due", "met_at", "days_late", "days_left", "set_at",
                           "as_of")
MAX_RULES_FILE = 1_000_000  # bytes: a hundred rules with many addresses fit many times over


def obligation_status(row: Mapping[str, Any], as_of: str) -> str:
    """``overdue, 3 days late``, ``due soon, tomorrow``, ``met on time``, ``waived``."""
    return "waived" if row["status"] == "waived" else clock_status(row, as_of)


def render_obligations(data: Mapping[str, Any], wide: bool) -> None:
    """80 columns hold the incident, the obligation's key, when due (provisional marked) and its status; ``wide`` adds
    the whole id, the JC case, the code and the clock."""
    headers = ("incident", "JC case", "code", "key", "clock") if wide else ("incident", "key")
    listed = table(*headers, "due", "status",
                   title=f"{data['facility'] or 'every facility'}: {STATUS_WORDS.get(data['status'], data['status'])} "
                         f"obligations as of {local_time(data['as_of'])}")
    for row in data["clocks"]:
        named = (row["incident_id"], row["jc_case_number"] or "-", row["code"], row["key"], row["clock"]) if wide \
            else (incident_label(row["incident_id"], row["jc_case_number"]), row["key"])
        due = local_time(row["due"]) + (" (provisional)" if row["provisional"] else "")
        listed.add_row(*named, due, obligation_status(row, data["as_of"]))
    if data["clocks"]:
        show(listed, wide)
    else:
        line(f"{listed.title}: none")


def obligations_csv(data: Mapping[str, Any]) -> str:
    return csv_text(OBLIGATIONS_CSV_COLUMNS, ({**row, "as_of": data["as_of"]} for row in data["clocks"]))


def _principal(runtime: Runtime, user: str) -> Principal:
    from workflows.accounts import Principal

    account = runtime.accounts.account(user)
    return Principal(account.actor, account.security_admin)


def _change(setting: FacilitySetting | None) -> dict[str, str] | None:
    """Who made the latest change, when and why (as the HTTP API's ``changed``)."""
    return None if setting is None else {"set_by": setting.set_by, "set_at": setting.set_at.isoformat(),
                                         "reason": setting.reason}


def facility_obligations(runtime: Runtime, by: Principal, facility: str) -> dict[str, Any]:
    """As ``GET /facilities/{facility}/obligations`` answers."""
    from domain.obligations.sets import obligation_rules
    from workflows.facilities import SettingKind

    chosen = runtime.facilities.current(by, facility, SettingKind.OBLIGATIONS)
    rules_id = str(chosen.value) if chosen is not None else runtime.facilities.default_obligations
    return {"facility": facility, "rules": rules_id, "title": obligation_rules(rules_id).title,
            "installation_default": chosen is None, "changed": _change(chosen)}


def facility_alert_rules(runtime: Runtime, by: Principal, facility: str) -> dict[str, Any]:
    """As ``GET /facilities/{facility}/alert-rules`` answers."""
    from workflows.facilities import SettingKind

    latest = runtime.facilities.current(by, facility, SettingKind.ALERT_RULES)
    return {"facility": facility, "rules": list(latest.value) if latest else [], "changed": _change(latest)}


def _rules_file(path: Path) -> Any:
    try:
        text = path.read_bytes()[:MAX_RULES_FILE + 1]
    except OSError as error:
        raise ValidationFailed(f"--file: cannot read {str(path)!r}: {error.strerror}") from None
    if len(text) > MAX_RULES_FILE:
        raise ValidationFailed(f"--file: {str(path)!r} is larger than {MAX_RULES_FILE} bytes")
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed(f"--file: {str(path)!r} is not JSON: {error}") from None


def _changed(record: Mapping[str, Any] | None) -> str:
    return "" if record is None else (f"set by {record['set_by']} on {local_time(record['set_at'])}: "
                                      f"{record['reason']}")


def _render_obligations_setting(data: Mapping[str, Any]) -> None:
    line(f"{data['facility']}: new incidents pin {data['rules']} ({data['title']})"
         + (", the installation's default" if data["installation_default"] else ""))
    if data["changed"]:
        line(_changed(data["changed"]), indent=2)


def _rule_text(rule: Mapping[str, Any]) -> str:
    filters = [f"{name.replace('_', ' ')}: {', '.join(rule[name])}" for name in ("clocks", "categories", "routes")
               if rule.get(name)]
    flags = [words for name, words in (("serious_harm_only", "serious harm only"), ("details", "with details"))
             if rule.get(name)]
    extra = "; ".join([*filters, *flags])
    return f"on {', '.join(rule['on'])} mail {', '.join(rule['to'])}" + (f" ({extra})" if extra else "")


def _render_alert_rules(data: Mapping[str, Any]) -> None:
    if not data["rules"]:
        line(f"{data['facility']}: no alert rules (no alert mail)")
    else:
        line(f"{data['facility']}: {len(data['rules'])} alert rule(s)")
        for number, rule in enumerate(data["rules"], 1):
            line(f"{number}. {_rule_text(rule)}", indent=2)
    if data["changed"]:
        line(_changed(data["changed"]), indent=2)


def _render_history(rows: list[dict[str, Any]], wide: bool) -> None:
    if not rows:
        line("never changed")
        return
    changes = table("when", "by", "value", "reason")
    for row in rows:
        value = row["value"]
        shown = value if isinstance(value, str) else f"{len(value)} alert rule(s)"
        changes.add_row(local_time(row["set_at"]), row["set_by"], shown, row["reason"])
    show(changes, wide)


def register(app: typer.Typer) -> None:  # noqa: C901 - one small function per command
    facility_app = typer.Typer(help="A facility's own settings: the obligation rules its new incidents pin, and who "
                                    "is mailed which alerts.", no_args_is_help=True)
    app.add_typer(facility_app, name="facility")

    @app.command("obligations")
    @handles_errors
    def obligations_command(user: As, facility: Facility = None,
                            status: Annotated[str, typer.Option("--status", help=", ".join(OBLIGATION_STATUSES)
                                                                + " (open: overdue, due soon or later).")] = "open",
                            clock: Annotated[str | None, typer.Option("--clock", help="One clock, e.g. "
                                                                      "qualified_person_notice.")] = None,
                            soon_days: Annotated[int, typer.Option("--soon-days", help="Open obligations due within "
                                                                   "this many days are 'due soon'.")] = 2,
                            limit: int = 50, offset: int = 0, wide: Wide = False, as_csv: Csv = False,
                            as_json: Json = False) -> None:
        """Obligations of each incident's pinned rules by status, most overdue first; provisional ones (drafts) marked."""
        with read_models() as runtime:
            result = runtime.reads.obligations(runtime.accounts.get(user), facility=facility, status=status,
                                               clock=clock, soon_days=soon_days, limit=limit, offset=offset)
        if as_csv:
            sys.stdout.write(obligations_csv(result))
            return
        emit(result, as_json, lambda data: render_obligations(data, wide))

    @facility_app.command("obligations")
    @handles_errors
    def facility_obligations_command(
        user: As, facility: Facility = None,
        choose: Annotated[str | None, typer.Option("--choose", help="Record a choice (Level 1): the rules id new "
                                                   "incidents pin, e.g. part524@1.")] = None,
        reason: Reason = None, as_json: Json = False,
    ) -> None:
        """The obligation rules the facility's new incidents pin; --choose records another (existing incidents keep
        theirs)."""
        if reason is not None and choose is None:
            raise ValidationFailed("--reason goes with --choose")
        with session() as runtime:
            by = _principal(runtime, user)
            chosen = facility or by.actor.facility
            if choose is not None:
                runtime.facilities.choose_obligations(by, chosen, choose, reason or "")
            result = facility_obligations(runtime, by, chosen)
        emit(result, as_json, _render_obligations_setting)

    @facility_app.command("alerts")
    @handles_errors
    def facility_alerts_command(
        user: As, facility: Facility = None,
        file: Annotated[Path | None, typer.Option("--file", help="Set the rules (security administrators): a JSON list "
                                                  "of rules, e.g. [{\"on\": [\"clock_missed\"], \"to\": "
                                                  "[\"risk@example.org\"]}].")] = None,
        reason: Reason = None, as_json: Json = False,
    ) -> None:
        """Who is mailed which alerts (security administrators and Level 1); --file sets them."""
        if reason is not None and file is None:
            raise ValidationFailed("--reason goes with --file")
        rules: Any = None if file is None else _rules_file(file)
        with session() as runtime:
            by = _principal(runtime, user)
            chosen = facility or by.actor.facility
            if file is not None:
                runtime.facilities.set_alert_rules(by, chosen, rules, reason or "")
            result = facility_alert_rules(runtime, by, chosen)
        emit(result, as_json, _render_alert_rules)

    @facility_app.command("history")
    @handles_errors
    def facility_history_command(
        user: As, facility: Facility = None,
        kind: Annotated[str, typer.Option("--kind", help="obligations or alert_rules.")] = "obligations",
        wide: Wide = False, as_json: Json = False,
    ) -> None:
        """Every change of a facility setting, oldest first: what, by whom, when and why."""
        from workflows.facilities import SettingKind, as_record

        kinds = [k.value for k in SettingKind]
        if kind not in kinds:
            raise ValidationFailed(f"unknown --kind {kind!r}; expected one of: {', '.join(kinds)}")
        with session() as runtime:
            by = _principal(runtime, user)
            rows = [as_record(s) for s in runtime.facilities.history(by, facility or by.actor.facility, SettingKind(kind))]
        emit(rows, as_json, lambda data: _render_history(data, wide))

