"""The workflow rules of the core issue, through the application services."""

import pytest

from adapters.tooling.samples import vpcr_report
from domain.errors import Conflict, NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from domain.lifecycle import State
from tests.conftest import L1, L2, L3, OTHER_L1, stored_event_count
from tests.workflows.helpers import draft, fill, received
from workflows.screens import allowed_actions, describe
from workflows.service import MAX_BULK_REPORTS


def test_jc_death_runs_from_the_queue_to_closed(memory_service, clock) -> None:
    s = memory_service
    iid = received(s, code="death.suicide")
    assert s.load(iid).state == State.JC_IMPORT_QUEUE
    s.import_report(L2, iid)
    fill(s, iid, serious_harm=True)
    s.email_omh(L1, iid)
    assert s.load(iid).state == State.EMAILED_TO_OMH
    clock.advance(days=2)
    s.submit_report_of_death(L1, iid)
    assert s.load(iid).state == State.REPORT_OF_DEATH_SUBMITTED
    s.start_investigation(L2, iid)
    s.document_findings(L2, iid, "Death reviewed; no custodial failure found.")
    s.close(L1, iid)
    events = [type(e).__name__ for e in s.history(L3, iid)]
    assert events == ["VpcrReportReceived", "ImportedFromJcQueue", *["DetailsRecorded"] * 6, "EmailedToOmh",
                      "DeadlineSet", "ReportOfDeathSubmitted", "InvestigationStarted", "FindingsDocumented", "Closed"]
    assert [e.actor["user_id"] for e in s.history(L3, iid)][-1] == L1.user_id
    (rod,) = describe(s.load(iid), L3, clock())["clocks"]
    assert rod["status"] == "met_on_time"


def test_a_jc_death_cannot_close_before_its_report_of_death(memory_service) -> None:
    s = memory_service
    iid = draft(s, code="death.suicide", serious_harm=True)
    s.email_omh(L1, iid)
    s.start_investigation(L2, iid)
    s.document_findings(L2, iid, "Reviewed by the incident review committee.")
    with pytest.raises(TransitionRefused) as refused:
        s.close(L1, iid)
    assert "Report of Death" in str(refused.value)
    s.submit_report_of_death(L1, iid)  # from under investigation it stays under investigation
    assert s.load(iid).state == State.UNDER_INVESTIGATION
    s.close(L1, iid)
    assert s.load(iid).state == State.CLOSED


def test_report_of_death_is_only_for_deaths_reported_to_the_jc(memory_service) -> None:
    s = memory_service
    abuse = draft(s, "2026-000201", code="an.neglect")
    s.email_omh(L1, abuse)
    with pytest.raises(TransitionRefused, match="only to deaths"):
        s.submit_report_of_death(L1, abuse)
    outpatient_death = s.create_incident(L2, program="Clinic", setting="outpatient", code="death.natural-expected",
                                         summary="Died at home")
    fill(s, outpatient_death)
    s.email_omh(L1, outpatient_death)
    assert s.load(outpatient_death).route == "OMH_ONLY"
    with pytest.raises(TransitionRefused, match="only to deaths reported JC_AND_OMH"):
        s.submit_report_of_death(L1, outpatient_death)


def test_email_omh_lists_every_missing_detail_and_changes_nothing(memory_service) -> None:
    s = memory_service
    iid = received(s)
    s.import_report(L2, iid)
    s.record_details(L2, iid, "narrative", {"narrative": "n", "immediate_actions": "a"})
    before = stored_event_count(s)
    with pytest.raises(TransitionRefused) as refused:
        s.email_omh(L1, iid)
    message = str(refused.value)
    for field in ("occurred_at", "location", "clients", "harm_rating", "serious_harm"):
        assert field in message
    assert "narrative" not in message.split("missing:")[1]
    assert stored_event_count(s) == before


def test_not_reportable_incidents_close_locally_without_email_omh(memory_service) -> None:
    s = memory_service
    iid = s.create_incident(L2, program="Unit 3", setting="inpatient", code="si.fall", summary="Slipped, no injury")
    fill(s, iid, serious_harm=False)
    assert s.load(iid).route == "NOT_REPORTABLE"
    with pytest.raises(TransitionRefused, match="NOT_REPORTABLE"):
        s.email_omh(L1, iid)
    with pytest.raises(TransitionRefused, match="findings"):
        s.close(L1, iid)
    s.document_findings(L2, iid, "Wet floor")
    s.close(L1, iid)
    assert s.load(iid).state == State.CLOSED
    assert s.load(iid).deadlines == {}


def test_omh_only_incident_is_created_emailed_and_closed(memory_service) -> None:
    s = memory_service
    iid = s.create_incident(L2, program="ACT team", setting="outpatient", code="omh.missing-aot", summary="Missed visits")
    fill(s, iid, on_premises=False)
    s.email_omh(L1, iid)
    s.document_findings(L2, iid, "Found at a relative's home")
    s.close(L1, iid)
    assert s.load(iid).state == State.CLOSED


def test_a_jc_reportable_incident_must_come_through_the_jc_import_queue(memory_service) -> None:
    s = memory_service
    iid = s.create_incident(L2, program="Unit 3", setting="inpatient", code="an.physical-abuse", summary="Allegation")
    fill(s, iid)
    with pytest.raises(TransitionRefused, match="reported to the JC first"):
        s.email_omh(L1, iid)


def test_levels_and_facilities(memory_service) -> None:
    s = memory_service
    iid = draft(s)
    before = stored_event_count(s)
    for level2_refused in (s.email_omh, s.submit_report_of_death, s.close):
        with pytest.raises(PermissionDenied, match="Level 1"):
            level2_refused(L2, iid)
    with pytest.raises(PermissionDenied):
        s.record_details(L3, iid, "narrative", {"narrative": "x"})
    with pytest.raises(PermissionDenied):
        s.receive_vpcr_report(L3, vpcr_report("2026-000999", s.clock()))
    with pytest.raises(NotFound):
        s.email_omh(OTHER_L1, iid)
    with pytest.raises(NotFound):
        s.incident(OTHER_L1, iid)
    with pytest.raises(NotFound):
        s.receive_vpcr_report(OTHER_L1, vpcr_report("2026-000998", s.clock()))
    assert stored_event_count(s) == before
    assert s.incident(L3, iid).state == State.DRAFT  # Level 3 reads


def test_allowed_actions_come_from_the_machine_and_the_users_level(memory_service) -> None:
    s = memory_service
    iid = draft(s)
    incident = s.load(iid)
    ledger = ["record_notice_recipient", "record_notification", "record_request"]  # Levels 1 and 2
    assert allowed_actions(incident, L1) == ["record_details", "email_omh", *ledger, "release_records",
                                             "waive_obligation", "extend_obligation"]
    assert allowed_actions(incident, L2) == ["record_details", *ledger]
    assert allowed_actions(incident, L3) == []
    assert allowed_actions(incident, OTHER_L1) == []


def test_receiving_the_same_report_twice_gives_one_queue_item(memory_service) -> None:
    s = memory_service
    report = vpcr_report("2026-000301", s.clock())
    first, added = s.receive_vpcr_report(L2, report)
    again, added_again = s.receive_vpcr_report(L2, report)
    assert (first, added, added_again) == (again, True, False)
    assert s.load(first).version == 1
    changed = vpcr_report("2026-000301", s.clock(), summary="Different text")
    before = stored_event_count(s)
    with pytest.raises(Conflict, match="already received with different content") as conflict:
        s.receive_vpcr_report(L2, changed)
    assert "summary" in str(conflict.value)
    assert stored_event_count(s) == before


def test_importing_twice_is_a_clear_error(memory_service) -> None:
    s = memory_service
    iid = received(s)
    s.import_report(L2, iid)
    with pytest.raises(TransitionRefused, match="cannot import_report an incident in state 'draft'"):
        s.import_report(L2, iid)


def test_bulk_receive_is_all_or_nothing(memory_service) -> None:
    s = memory_service
    reports = [vpcr_report(f"2026-1{n:05}", s.clock()) for n in range(20)]
    receipt = s.receive_vpcr_reports(L2, reports[:10])
    assert len(receipt.received) == 10
    receipt = s.receive_vpcr_reports(L2, reports)
    assert (len(receipt.received), len(receipt.duplicates)) == (10, 10)
    before = stored_event_count(s)
    clash = [vpcr_report("2026-200001", s.clock()), vpcr_report("2026-100003", s.clock(), summary="changed")]
    with pytest.raises(Conflict):
        s.receive_vpcr_reports(L2, clash)
    assert stored_event_count(s) == before


def test_stale_expected_version_is_refused(memory_service) -> None:
    s = memory_service
    iid = draft(s)
    version = s.load(iid).version
    s.record_details(L2, iid, "narrative", {"narrative": "Updated account"}, expected_version=version)
    with pytest.raises(Conflict, match="reload"):
        s.record_details(L2, iid, "narrative", {"narrative": "Lost update"}, expected_version=version)


def test_reopen_returns_to_where_it_closed_and_needs_a_reason(memory_service) -> None:
    s = memory_service
    iid = draft(s)
    s.email_omh(L1, iid)
    s.start_investigation(L2, iid)
    s.document_findings(L2, iid, "Substantiated; staff retrained")
    s.close(L1, iid)
    with pytest.raises(ValidationFailed, match="reason is required"):
        s.reopen(L1, iid, "  ")
    s.reopen(L1, iid, "New witness statement")
    assert s.load(iid).state == State.UNDER_INVESTIGATION


def test_clocks_are_set_at_email_omh_and_never_move(memory_service, clock) -> None:
    s = memory_service
    iid = draft(s, code="an.physical-abuse")
    assert s.load(iid).deadlines == {}
    provisional = describe(s.load(iid), L1, clock())["clocks"]
    assert [(c["name"], c["provisional"]) for c in provisional] == [("investigation", True)]
    clock.advance(days=1)
    s.email_omh(L1, iid)
    investigation = s.load(iid).deadlines["investigation"]
    assert investigation.start == s.load(iid).jc_reported_at
    clock.advance(days=1)
    s.amend(L1, iid, "incident", {"code": "death.homicide"}, reason="Client died of the injuries")
    incident = s.load(iid)
    assert incident.deadlines["investigation"] == investigation
    assert incident.deadlines["report_of_death"].length == 5
    assert incident.needs_report_of_death()


def test_clock_status_on_time_and_late(memory_service, clock) -> None:
    s = memory_service
    iid = draft(s, code="death.accidental", serious_harm=True)
    s.email_omh(L1, iid)
    clock.advance(days=8)
    s.submit_report_of_death(L1, iid)
    (rod,) = describe(s.load(iid), L1, clock())["clocks"]
    assert (rod["status"], rod["days_late"]) == ("met_late", 3)


def test_amend_needs_level_1_and_a_reason(memory_service) -> None:
    s = memory_service
    iid = draft(s)
    with pytest.raises(TransitionRefused, match="cannot amend an incident in state 'draft'"):
        s.amend(L1, iid, "narrative", {"narrative": "x"}, reason="typo")
    s.email_omh(L1, iid)
    with pytest.raises(PermissionDenied):
        s.amend(L2, iid, "narrative", {"narrative": "x"}, reason="typo")
    with pytest.raises(ValidationFailed, match="reason"):
        s.amend(L1, iid, "narrative", {"narrative": "x"}, reason="")
    s.amend(L1, iid, "narrative", {"narrative": "Corrected account"}, reason="typo")
    assert s.load(iid).details["narrative"] == "Corrected account"


def test_invalid_details_name_every_problem_and_change_nothing(memory_service) -> None:
    s = memory_service
    iid = received(s)
    s.import_report(L2, iid)
    before = stored_event_count(s)
    with pytest.raises(ValidationFailed) as invalid:
        s.record_details(L2, iid, "severity", {"harm_rating": 7, "serious_harm": "maybe", "colour": "red"})
    assert len(invalid.value.problems) == 3
    with pytest.raises(ValidationFailed, match="unknown screen"):
        s.record_details(L2, iid, "vitals", {"pulse": 80})
    with pytest.raises(ValidationFailed, match="unknown incident code"):
        s.record_details(L2, iid, "incident", {"code": "si.unknown"})
    assert stored_event_count(s) == before


def test_a_delivery_holds_at_most_a_thousand_reports_and_a_refused_one_stores_nothing(memory_service) -> None:
    s = memory_service
    too_many = [vpcr_report(f"2026-{n:06}", s.clock()) for n in range(MAX_BULK_REPORTS + 1)]
    before = stored_event_count(s)
    with pytest.raises(ValidationFailed, match="at most 1000 VPCR reports, this one 1001: send them in parts"):
        s.receive_vpcr_reports(L2, too_many)
    assert stored_event_count(s) == before
    assert len(s.receive_vpcr_reports(L2, too_many[:MAX_BULK_REPORTS]).received) == MAX_BULK_REPORTS
