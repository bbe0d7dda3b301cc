"""docs/obligations.md, generated from the released obligation rule sets (``domain.obligations.sets``) and the
New York State calendar (``domain.obligations.calendar``): every clock with its start, length, unit, what meets
it, whom it applies to and its citation."""

from __future__ import annotations

from datetime import date

from domain.obligations.calendar import state_holidays
from domain.obligations.clocks import ClockDefinition, ObligationRules
from domain.obligations.sets import FOR_NEW_INSTALLATIONS, OBLIGATION_SETS

HOLIDAY_YEARS = (2025, 2026, 2027)
STARTS = {"initial_report": "the initial report to the JC (entered directly: when recorded)",
          "discovery": "discovery (`discovered_at` on the incident screen)", "request": "a written request"}


def _length(clock: ClockDefinition) -> str:
    unit = clock.unit.value.replace("_", " ")
    return f"the chart's days ({unit})" if clock.length is None else f"{clock.length} {unit}"


def _applies(clock: ClockDefinition) -> str:
    if clock.applies.from_chart:
        return "where the chart lists it for the type and route"
    parts = [" or ".join(r.value for r in clock.applies.routes) if clock.applies.routes else "every reportable route"]
    if clock.applies.deaths_only:
        parts.append("deaths only")
    return ", ".join(parts)


def _met_by(clock: ClockDefinition) -> str:
    return "; else ".join(m.meeting.value.replace("_", " ") + (f" ({', '.join(c.value for c in m.categories)})"
                                                               if m.categories else "") for m in clock.met_by)


def _start(clock: ClockDefinition) -> str:
    start = STARTS[clock.starts_at.value]
    return f"{start}: {clock.request_kind.value}" if clock.request_kind else start


def _rules(rules: ObligationRules) -> list[str]:
    default = " (the default for new installations)" if rules.id == FOR_NEW_INSTALLATIONS else ""
    lines = [f"## `{rules.id}`: {rules.title}{default}", "", rules.description, "",
             "| clock | starts at | length | met by | applies to | extension | blocks closing | due soon | citation |",
             "|---|---|---|---|---|---|---|---|---|"]
    for clock in rules.clocks:
        extension = f"Level {int(clock.extendable_by)}, with a reason" if clock.extendable_by is not None else "no"
        lines.append(f"| `{clock.name}` ({clock.title}) | {_start(clock)} | {_length(clock)} | {_met_by(clock)} | "
                     f"{_applies(clock)} | {extension} | {'yes' if clock.blocks_closing else 'no'} | "
                     f"{clock.due_soon_hours} hours before | {clock.citation} |")
    return [*lines, ""]


def _holidays() -> list[str]:
    lines = ["## New York State holidays (working-day clocks skip them)", "",
             "Monday to Friday, less the State's public holidays (General Construction Law § 24). A holiday on a "
             "Sunday is kept on the Monday; one on a Saturday is not moved.", "", "| date | holiday |", "|---|---|"]
    for year in HOLIDAY_YEARS:
        for day, name in sorted(state_holidays(year).items()):
            lines.append(f"| {_day(day)} | {name} |")
    return [*lines, ""]


def _day(day: date) -> str:
    return day.strftime("%a %d %b %Y")


def obligations_markdown(generated: str) -> str:
    return "\n".join([
        "# Obligations: every clock, as data", "", generated, "",
        "An incident pins one set of clocks when it is received or created: its facility's choice "
        "(`nimrs facility obligations --choose ID`), else `NIMRS_OBLIGATIONS_DEFAULT` (`part524@1`). A later choice "
        "never changes an existing incident. Each clock running on an incident is an *obligation*, named by its key "
        "(the clock's name, and `:<request id>` for clocks a request starts). It is open, met on time, met late, or "
        "waived by a Level 1 user with a reason; the clock process records `ClockDueSoon` and `ClockMissed` once "
        "per obligation and due time.", "",
        "Due times: hours are exact elapsed hours (a daylight-saving change inside the clock counts real hours); "
        "calendar and working days end at the end of the New York day (the start's day is not counted). A due time "
        "once fixed at Email OMH never moves; before that a draft's clocks are provisional and follow its type. "
        "To keep only the charts' clocks, a facility chooses `charts@2` (or `charts@1`, release 0.1.0's behaviour).",
        "",
        *[line for rules in OBLIGATION_SETS.values() for line in _rules(rules)],
        *_holidays(),
    ])
