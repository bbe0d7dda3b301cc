"""Sample VPCR reports and incident details, for the demo, the benchmarks and the tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.vpcr import VpcrReport


def vpcr_report(case: str, reported_at: datetime, *, code: str = "an.physical-abuse", facility: str = "F-001",
                setting: str = "inpatient", program: str = "Adult Inpatient Unit 3",
                summary: str = "Reported to the JC by the unit charge nurse.") -> VpcrReport:
    return VpcrReport.from_mapping({
        "jc_case_number": case, "jc_reported_at": reported_at.isoformat(), "facility": facility,
        "program": program, "setting": setting, "reported_type": code, "summary": summary,
    })


def complete_details(occurred_at: datetime, *, on_premises: bool = True, serious_harm: bool = False,
                     age: int = 34, discovered: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """Every screen NIMRS requires before Email OMH, as (screen, fields) pairs; ``discovered`` adds when the incident
    was discovered (ten minutes after it occurred), which Part 524's 24-hour report to the JC runs from."""
    severity: dict[str, Any] = {"harm_rating": 3 if serious_harm else 1, "risk_rating": 2, "serious_harm": serious_harm}
    if serious_harm:
        severity["serious_harm_basis"] = "physical"
    return [
        ("incident", {"occurred_at": occurred_at.isoformat(), "location": "Day room",
                      "on_premises_or_supervised": on_premises,
                      **({"discovered_at": (occurred_at + timedelta(minutes=10)).isoformat()} if discovered else {})}),
        ("clients", {"clients": [{"client_id": "C-1042", "age": age, "role": "subject"}]}),
        ("staff", {"staff_involved": ["S-311"], "witnesses": ["S-207"]}),
        ("narrative", {"narrative": "Staff observed the event and intervened.",
                       "immediate_actions": "Client assessed by the covering physician; area secured."}),
        ("notifications", {"notifications_made": [
            {"party": "family", "notified_at": (occurred_at + timedelta(minutes=30)).isoformat()}]}),
        ("severity", severity),
    ]
