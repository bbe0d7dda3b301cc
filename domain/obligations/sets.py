"""The released sets of clocks, by id (``charts@1``, ``charts@2``, ``part524@1``).

Each incident pins one set when it is created (its creation event's ``obligations``), so a later
choice or a new version never changes an existing incident's duties. A released set is never
edited: ``tests/data/obligation_sets.json`` holds each one's ``as_dict()``, and a change there fails
a test until it is a new version. ``docs/obligations.md`` is generated from these.
"""

from __future__ import annotations

from domain.errors import ValidationFailed
from domain.obligations.calendar import Unit
from domain.obligations.clocks import Applies, ClockDefinition, Meeting, MetWhen, ObligationRules, RequestKind, Start
from domain.vocabulary import Category, ClockName, Level, Route

CHART = "OMH incident reporting chart (seeds 001/002)"

REPORT_OF_DEATH = ClockDefinition(
    name=ClockName.REPORT_OF_DEATH.value, title="Report of Death to the JC", starts_at=Start.INITIAL_REPORT,
    unit=Unit.CALENDAR_DAYS, met_by=(MetWhen(Meeting.REPORT_OF_DEATH_SUBMITTED),), applies=Applies(from_chart=True),
    citation=f"{CHART}: Report of Death within the chart's days of the initial report to the JC",
)
INVESTIGATION = ClockDefinition(
    name=ClockName.INVESTIGATION.value, title="Investigation closed", starts_at=Start.INITIAL_REPORT,
    unit=Unit.CALENDAR_DAYS, met_by=(MetWhen(Meeting.FIRST_CLOSED),), applies=Applies(from_chart=True),
    citation=f"{CHART}: investigation closed within the chart's days of the initial report to the JC",
)
# The current chart: abuse and neglect findings are submitted "via WSIR within 45 days"; other types are closed.
INVESTIGATION_WSIR = ClockDefinition(
    name=ClockName.INVESTIGATION.value, title="Investigation findings (WSIR) or closure", starts_at=Start.INITIAL_REPORT,
    unit=Unit.CALENDAR_DAYS,
    met_by=(MetWhen(Meeting.WSIR_SUBMITTED, (Category.ABUSE_NEGLECT,)), MetWhen(Meeting.FIRST_CLOSED)),
    applies=Applies(from_chart=True),
    citation=f"{CHART}: abuse/neglect findings via WSIR, other investigations closed, within the chart's days",
)
JC = (Route.JC_AND_OMH,)
PART_524_CLOCKS = (
    ClockDefinition(
        name="jc_report", title="Report to the Justice Center (VPCR)", starts_at=Start.DISCOVERY, length=24,
        unit=Unit.HOURS, met_by=(MetWhen(Meeting.JC_INITIAL_REPORT),), applies=Applies(routes=JC),
        blocks_closing=True, due_soon_hours=6,
        citation="14 NYCRR 524.8(a)(1); Social Services Law § 491: report to the VPCR within 24 hours of discovery",
    ),
    ClockDefinition(
        name="qualified_person_notice", title="Notice to the qualified person (Jonathan's Law)",
        starts_at=Start.INITIAL_REPORT, length=24, unit=Unit.HOURS,
        met_by=(MetWhen(Meeting.QUALIFIED_PERSONS_NOTIFIED),), applies=Applies(routes=JC), blocks_closing=True,
        due_soon_hours=6,
        citation="Mental Hygiene Law § 33.23(b); 14 NYCRR 524.9: notice within 24 hours of the initial report",
    ),
    ClockDefinition(
        name="incident_report_copy", title="Copy of the incident report to a qualified person",
        starts_at=Start.REQUEST, request_kind=RequestKind.INCIDENT_REPORT_COPY, length=10, unit=Unit.CALENDAR_DAYS,
        met_by=(MetWhen(Meeting.RECORDS_RELEASED),), applies=Applies(), blocks_closing=True,
        citation="Mental Hygiene Law § 33.23(c); 14 NYCRR 524.9: within 10 days of a written request",
    ),
    ClockDefinition(
        name="investigation_records", title="Investigation records to a qualified person",
        starts_at=Start.REQUEST, request_kind=RequestKind.INVESTIGATION_RECORDS, length=21, unit=Unit.CALENDAR_DAYS,
        met_by=(MetWhen(Meeting.RECORDS_RELEASED),), applies=Applies(),
        citation="Mental Hygiene Law § 33.25: within 21 days of a written request made after the investigation ended",
    ),
    ClockDefinition(
        name="autopsy_report", title="Autopsy report to the JC", starts_at=Start.INITIAL_REPORT, length=60,
        unit=Unit.WORKING_DAYS, met_by=(MetWhen(Meeting.SENT_TO_JC),), applies=Applies(routes=JC, deaths_only=True),
        extendable_by=Level.SUBMITTER, due_soon_hours=7 * 24,
        citation="14 NYCRR 524.11(b)(1)(iv): within 60 working days of the report to the JC, extendable for good cause",
    ),
    ClockDefinition(
        name="jc_information", title="Additional information the JC requested", starts_at=Start.REQUEST,
        request_kind=RequestKind.JC_INFORMATION, length=5, unit=Unit.WORKING_DAYS,
        met_by=(MetWhen(Meeting.SENT_TO_JC),), applies=Applies(routes=JC, deaths_only=True), blocks_closing=True,
        citation="14 NYCRR 524.11(b)(1)(iii): within 5 working days of the JC's request",
    ),
)

CHARTS_1 = ObligationRules(
    name="charts", version=1, title="The charts' two clocks (release 0.1.0)",
    description="The Report of Death and the investigation, in calendar days from the initial report to the JC, "
                "set at Email OMH.",
    clocks=(REPORT_OF_DEATH, INVESTIGATION), provisional_drafts=False,
)
CHARTS_2 = ObligationRules(
    name="charts", version=2, title="The charts' two clocks, running from receipt, with WSIR",
    description="As charts@1, and: a draft's clocks run from the initial report to the JC on the reported type "
                "(provisional until Email OMH fixes them); abuse and neglect findings submitted via WSIR meet the "
                "investigation clock.",
    clocks=(REPORT_OF_DEATH, INVESTIGATION_WSIR), provisional_drafts=True,
)
PART_524_1 = ObligationRules(
    name="part524", version=1, title="Part 524 and Jonathan's Law",
    description="charts@2 plus the clocks of 14 NYCRR Part 524 and Mental Hygiene Law §§ 33.23 and 33.25.",
    clocks=(REPORT_OF_DEATH, INVESTIGATION_WSIR, *PART_524_CLOCKS), provisional_drafts=True,
)

OBLIGATION_SETS: dict[str, ObligationRules] = {rules.id: rules for rules in (CHARTS_1, CHARTS_2, PART_524_1)}
CHARTS_ONLY = CHARTS_1.id  # what every incident recorded before obligation sets existed runs on (the upcasts)
FOR_NEW_INSTALLATIONS = PART_524_1.id
ALL_CLOCK_NAMES = tuple(dict.fromkeys(c.name for rules in OBLIGATION_SETS.values() for c in rules.clocks))


def obligation_rules(rules_id: str) -> ObligationRules:
    try:
        return OBLIGATION_SETS[rules_id]
    except KeyError:
        raise ValidationFailed(f"unknown obligation rules {rules_id!r}; expected one of: "
                               f"{', '.join(OBLIGATION_SETS)}") from None
