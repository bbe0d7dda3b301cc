"""Obligations under part524@1, against the Incident alone: which clocks start, when they are due, what meets them,
what closing needs, and the clock process's exactly-once alerts. Fixed dates; no clock reads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from adapters.tooling.samples import complete_details, vpcr_report
from domain.errors import NimrsError, TransitionRefused, ValidationFailed
from domain.incident import Incident
from domain.obligations.sets import CHARTS_ONLY, OBLIGATION_SETS, obligation_rules
from tests.conftest import L1, L2

REPORTED = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)  # Mon 2 Mar 2026, 9:00 am EST: the initial report to the JC
T0 = REPORTED + timedelta(hours=1)
QP = {"recipient_id": "qp-1", "role": "qualified_person", "name": "Ana Parent", "relationship": "mother",
      "contacts": {"phone": "555-0100"}, "preferred": ["phone"]}
DOCUMENT = {"sha256": "a" * 64, "size": 2048, "location": "documents/aaaa.pdf"}


def received(code: str = "an.physical-abuse", obligations: str = "part524@1", setting: str = "inpatient") -> Incident:
    return Incident.receive(vpcr_report("2026-000777", REPORTED, code=code, setting=setting), L2, T0,
                            obligations=obligations)


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def keys(incident: Incident) -> dict[str, tuple[bool, datetime]]:
    return {key: (d.provisional, d.due) for key, d in incident.deadlines.items()}


def submitted(code: str = "an.physical-abuse", **facts: Any) -> Incident:
    incident = received(code)
    incident.import_report(L2, T0)
    for screen, fields in complete_details(REPORTED - timedelta(hours=3), **facts):
        incident.record_details(L2, T0, screen, fields)
    incident.record_details(L2, T0, "incident", {"discovered_at": (REPORTED - timedelta(hours=2)).isoformat()})
    incident.email_omh(L1, T0 + timedelta(hours=1))
    return incident


def test_a_received_report_starts_its_clocks_provisionally_from_the_initial_report() -> None:
    incident = received("death.suicide")
    recorded = incident.collect_events()
    assert names(recorded)[0] == "VpcrReportReceived" and recorded[0].obligations == "part524@1"
    started = keys(incident)
    # the chart's Report of Death (5 days) and investigation, Jonathan's Law (24 hours) and the autopsy (60 working days)
    assert started["report_of_death"] == (True, datetime(2026, 3, 8, 4, 59, 59, 999999, tzinfo=timezone.utc))
    assert started["qualified_person_notice"] == (True, REPORTED + timedelta(hours=24))
    assert started["autopsy_report"][0] is True
    assert "jc_report" not in started, "discovery is not recorded yet"


def test_charts_1_keeps_release_0_1_0_behaviour() -> None:
    incident = received(obligations=CHARTS_ONLY)
    assert names(incident.collect_events()) == ["VpcrReportReceived"] and incident.deadlines == {}


def test_changing_a_drafts_type_withdraws_the_clocks_that_no_longer_apply() -> None:
    incident = received("death.suicide")
    incident.import_report(L2, T0)
    incident.collect_events()
    incident.record_details(L2, T0, "incident", {"code": "an.physical-abuse"})
    recorded = incident.collect_events()
    withdrawn = {e.key for e in recorded if type(e).__name__ == "DeadlineWithdrawn"}
    assert withdrawn == {"report_of_death", "autopsy_report"}
    assert "report_of_death" not in incident.deadlines and "qualified_person_notice" in incident.deadlines


def test_email_omh_needs_the_discovery_time_and_fixes_the_clocks() -> None:
    incident = received()
    incident.import_report(L2, T0)
    for screen, fields in complete_details(REPORTED - timedelta(hours=3)):
        incident.record_details(L2, T0, screen, fields)
    with pytest.raises(TransitionRefused, match="cannot email_omh") as refused:
        incident.email_omh(L1, T0)
    assert any("discovered_at is required" in p for p in refused.value.problems or [])
    with pytest.raises(ValidationFailed, match="later than the initial report"):
        incident.record_details(L2, T0, "incident", {"discovered_at": (REPORTED + timedelta(minutes=1)).isoformat()})
    discovered = REPORTED - timedelta(hours=30)  # reported 30 hours after discovery: the 24-hour clock met late
    incident.record_details(L2, T0, "incident", {"discovered_at": discovered.isoformat()})
    assert incident.deadlines["jc_report"].due == discovered + timedelta(hours=24)
    assert incident.obligations_met["jc_report"] == REPORTED
    incident.collect_events()
    incident.email_omh(L1, T0)
    fixed = [e for e in incident.collect_events() if type(e).__name__ == "DeadlineSet"]
    assert {e.key for e in fixed} == {"investigation", "qualified_person_notice"}, "a met clock never moves"
    assert not any(d.provisional for k, d in incident.deadlines.items() if k != "jc_report")
    status = incident.deadlines["jc_report"].status(incident.clock_met_at("jc_report"), T0)
    assert status["status"] == "met_late"


def test_closing_is_refused_naming_an_unmet_notice_until_every_qualified_person_is_notified() -> None:
    incident = submitted()
    incident.start_investigation(L2, T0)
    incident.document_findings(L2, T0, "Unsubstantiated.")
    with pytest.raises(TransitionRefused) as refused:
        incident.close(L1, T0 + timedelta(days=2))
    [problem] = [p for p in refused.value.problems or [] if "qualified_person_notice" in p]
    assert problem.startswith("cannot close: qualified_person_notice is open (due 2026-03-03 09:00 EST)")
    incident.record_notice_recipient(L2, T0, QP)
    incident.record_notification(L2, T0, {"recipient_id": "qp-1", "notified_at": (T0 - timedelta(minutes=5)).isoformat(),
                                          "method": "phone", "outcome": "not_reached"})
    assert "qualified_person_notice" not in incident.obligations_met, "not reached is no notice"
    reached = T0 + timedelta(hours=2)
    incident.collect_events()
    incident.record_notification(L2, reached + timedelta(minutes=1), {
        "recipient_id": "qp-1", "notified_at": reached.isoformat(), "method": "phone", "outcome": "reached",
        "note": "Told of the incident and the investigation."})
    assert names(incident.collect_events()) == ["NotificationRecorded", "ObligationMet"]
    assert incident.obligations_met["qualified_person_notice"] == reached
    incident.close(L1, T0 + timedelta(days=2))
    # the current chart: abuse findings go via WSIR within 45 days, so closing does not meet that clock
    assert incident.clock_met_at("investigation") is None and "investigation" in incident.deadlines


def test_a_level_1_waiver_with_a_reason_lets_the_incident_close() -> None:
    incident = submitted()
    incident.start_investigation(L2, T0)
    incident.document_findings(L2, T0, "Unsubstantiated.")
    with pytest.raises(ValidationFailed, match="reason"):
        incident.waive_obligation(L1, T0, "qualified_person_notice", " ")
    with pytest.raises(ValidationFailed, match="no obligation 'nothing'"):
        incident.waive_obligation(L1, T0, "nothing", "why")
    incident.waive_obligation(L1, T0, "qualified_person_notice", "The patient is a capable adult who objected.")
    assert incident.waived == {"qualified_person_notice": "The patient is a capable adult who objected."}
    with pytest.raises(ValidationFailed, match="no longer open"):
        incident.waive_obligation(L1, T0, "qualified_person_notice", "again")
    incident.close(L1, T0 + timedelta(days=1))


def test_a_request_starts_its_own_clock_and_the_release_meets_it() -> None:
    incident = submitted()
    incident.record_notice_recipient(L2, T0, QP)
    with pytest.raises(ValidationFailed, match="qualified person recorded"):
        incident.record_request(L2, T0, request_id="r-1", kind="incident_report_copy", requested_by="someone",
                                received_at=T0)
    asked = datetime(2026, 3, 6, 15, tzinfo=timezone.utc)  # Fri 6 Mar, 10 am EST
    incident.record_request(L2, asked, request_id="r-1", kind="incident_report_copy", requested_by="qp-1",
                            received_at=asked)
    copy = incident.deadlines["incident_report_copy:r-1"]
    assert copy.due == datetime(2026, 3, 17, 3, 59, 59, 999999, tzinfo=timezone.utc)  # end of Mon 16 Mar, EDT
    assert any(b.startswith("incident_report_copy:r-1 is open") for b in incident.closing_blockers())
    released = asked + timedelta(days=3)
    incident.release_records(L1, released, request_id="r-1", released_at=released, method="letter",
                             document=DOCUMENT, redactions={"labels": {"Client 2": "client"}, "consents": []})
    assert incident.obligations_met["incident_report_copy:r-1"] == released
    with pytest.raises(ValidationFailed, match="already released"):
        incident.release_records(L1, released, request_id="r-1", released_at=released, method="letter",
                                 document=DOCUMENT, redactions={})


def test_investigation_records_run_from_the_end_of_the_investigation() -> None:
    incident = submitted()
    incident.record_notice_recipient(L2, T0, QP)
    incident.record_notification(L2, T0, {"recipient_id": "qp-1", "notified_at": T0.isoformat(), "method": "phone",
                                          "outcome": "reached"})
    incident.record_request(L2, T0, request_id="r-2", kind="investigation_records", requested_by="qp-1", received_at=T0)
    assert "investigation_records:r-2" not in incident.deadlines, "owed once the investigation has ended"
    incident.start_investigation(L2, T0)
    incident.document_findings(L2, T0, "Unsubstantiated.")
    closed = T0 + timedelta(days=10)
    incident.close(L1, closed)
    records = incident.deadlines["investigation_records:r-2"]
    assert records.start == closed and records.length == 21 and records.unit == "calendar_days"


def test_wsir_meets_an_abuse_investigation_clock() -> None:
    incident = submitted()
    incident.start_investigation(L2, T0)
    incident.collect_events()
    incident.submit_wsir(L1, T0 + timedelta(days=20), "WSIR-2026-0042")
    assert names(incident.collect_events()) == ["WsirSubmitted", "ObligationMet"]
    assert incident.clock_met_at("investigation") == T0 + timedelta(days=20)
    with pytest.raises(TransitionRefused, match="already submitted"):
        incident.submit_wsir(L1, T0, "WSIR-2")


def test_the_autopsy_clock_counts_working_days_and_may_be_extended_with_a_reason() -> None:
    incident = submitted("death.suicide")
    autopsy = incident.deadlines["autopsy_report"]
    # 60 working days from Mon 2 Mar 2026 (Memorial Day, Mon 25 May, is skipped): the end of Tue 26 May, EDT
    assert autopsy.due == datetime(2026, 5, 27, 3, 59, 59, 999999, tzinfo=timezone.utc)
    with pytest.raises(ValidationFailed, match="later than the current one"):
        incident.extend_obligation(L1, T0, "autopsy_report", autopsy.due - timedelta(days=1), "slow examiner")
    with pytest.raises(ValidationFailed, match="cannot be extended"):
        incident.extend_obligation(L1, T0, "qualified_person_notice", T0 + timedelta(days=9), "no")
    later = autopsy.due + timedelta(days=30)
    incident.extend_obligation(L1, T0, "autopsy_report", later.isoformat(), "The medical examiner's report is pending.")
    assert incident.deadlines["autopsy_report"].due == later
    incident.send_to_jc(L1, T0, what="autopsy_report", sent_at=T0)
    assert incident.obligations_met["autopsy_report"] == T0


def test_the_clock_process_records_due_soon_and_missed_exactly_once_per_due_time() -> None:
    incident = submitted()
    incident.collect_events()
    notice_due = incident.deadlines["qualified_person_notice"].due
    assert incident.record_clock_due_soon(notice_due - timedelta(hours=7)) == [], "not yet within 6 hours"
    assert incident.record_clock_due_soon(notice_due - timedelta(hours=5)) == ["qualified_person_notice"]
    assert incident.record_clock_due_soon(notice_due - timedelta(hours=4)) == [], "once"
    assert incident.record_clock_missed(notice_due) == [], "due at, not past"
    assert incident.record_clock_missed(notice_due + timedelta(seconds=1)) == ["qualified_person_notice"]
    assert incident.record_clock_missed(notice_due + timedelta(days=3)) == []
    alerts = incident.collect_events()
    assert names(alerts) == ["ClockDueSoon", "ClockMissed"]
    missed = alerts[1]
    assert missed.actor == {"user_id": "system:clocks", "facility": "F-001", "level": 3}
    assert (missed.key, missed.due, missed.provisional, missed.code, missed.route) == (
        "qualified_person_notice", notice_due, False, "an.physical-abuse", "JC_AND_OMH")


def test_a_met_or_waived_obligation_raises_no_alert() -> None:
    incident = submitted()
    incident.waive_obligation(L1, T0, "qualified_person_notice", "No qualified person: the patient objected.")
    incident.collect_events()
    late = incident.deadlines["qualified_person_notice"].due + timedelta(days=1)
    assert incident.record_clock_missed(late) == []


def test_ledger_values_are_checked_and_a_refusal_records_nothing() -> None:
    incident = submitted()
    incident.collect_events()
    for bad, problem in [({**QP, "role": "cousin"}, "role must be one of"), ({**QP, "name": ""}, "name must be"),
                         ({**QP, "contacts": {"fax": "1"}}, "contacts must map"), ({**QP, "extra": 1}, "unknown recipient")]:
        with pytest.raises(NimrsError, match=problem):
            incident.record_notice_recipient(L2, T0, bad)
    with pytest.raises(ValidationFailed, match="is not recorded"):
        incident.record_notification(L2, T0, {"recipient_id": "qp-9", "notified_at": T0.isoformat(), "method": "phone",
                                              "outcome": "reached"})
    incident.record_notice_recipient(L2, T0, QP)
    incident.collect_events()
    with pytest.raises(ValidationFailed, match="outcome must be one of"):
        incident.record_notification(L2, T0, {"recipient_id": "qp-1", "notified_at": T0.isoformat(), "method": "phone",
                                              "outcome": "maybe"})
    with pytest.raises(ValidationFailed, match="notified_at must lie between"):
        incident.record_notification(L2, T0, {"recipient_id": "qp-1", "notified_at": (T0 + timedelta(days=1)).isoformat(),
                                              "method": "phone", "outcome": "reached"})
    assert incident.collect_events() == []


def test_every_released_rule_set_is_frozen_and_each_clock_cites_its_source() -> None:
    for rules_id, rules in OBLIGATION_SETS.items():
        assert obligation_rules(rules_id) is rules
        assert all(clock.citation and clock.title for clock in rules.clocks)
    with pytest.raises(ValidationFailed, match="unknown obligation rules"):
        obligation_rules("part524@9")


def test_a_released_rule_set_is_never_edited() -> None:
    """tests/data/obligation_sets.json holds every released set as released: a change is a new version."""
    snapshot = json.loads((Path(__file__).resolve().parents[1] / "data" / "obligation_sets.json").read_text())
    current = {rules_id: rules.as_dict() for rules_id, rules in OBLIGATION_SETS.items()}
    assert set(snapshot) <= set(current), "a released set was removed"
    for rules_id, released in snapshot.items():
        assert current[rules_id] == released, f"{rules_id} changed: release it as a new version instead"
