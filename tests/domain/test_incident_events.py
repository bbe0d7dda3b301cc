"""Stored event names are a contract with years of history: this list only ever grows."""

from datetime import datetime, timezone

from domain.actor import Actor
from domain.incident import Incident
from domain.vocabulary import Level
from domain.vpcr import VpcrReport, incident_id_for_case

STORED_TOPICS = {
    "nimrs.Incident", "nimrs.Incident.VpcrReportReceived", "nimrs.Incident.CreatedDirectly",
    "nimrs.Incident.ImportedFromJcQueue", "nimrs.Incident.DetailsRecorded", "nimrs.Incident.EmailedToOmh",
    "nimrs.Incident.DeadlineSet", "nimrs.Incident.ReportOfDeathSubmitted", "nimrs.Incident.InvestigationStarted",
    "nimrs.Incident.FindingsDocumented", "nimrs.Incident.Closed", "nimrs.Incident.Reopened",
    "nimrs.Incident.AmendedAfterSubmission",
    # issue 12: obligations and the notification ledger (ADR 0014)
    "nimrs.Incident.DeadlineWithdrawn", "nimrs.Incident.ObligationMet", "nimrs.Incident.ObligationWaived",
    "nimrs.Incident.ObligationExtended", "nimrs.Incident.NoticeRecipientRecorded", "nimrs.Incident.NotificationRecorded",
    "nimrs.Incident.RequestReceived", "nimrs.Incident.RecordsReleased", "nimrs.Incident.SentToJc",
    "nimrs.Incident.WsirSubmitted", "nimrs.Incident.ClockDueSoon", "nimrs.Incident.ClockMissed",
}
NEVER_STORED = {"nimrs.Incident.ClockAlert"}  # what ClockDueSoon and ClockMissed share

# Version 2 of EmailedToOmh, ReportOfDeathSubmitted and Closed added ``attested`` (upcast to False); of the
# creation events, ``obligations`` (upcast to charts@1); of DeadlineSet, the obligation's key, rules and unit.
VERSION_2 = {"nimrs.Incident.EmailedToOmh": 2, "nimrs.Incident.ReportOfDeathSubmitted": 2, "nimrs.Incident.Closed": 2,
             "nimrs.Incident.VpcrReportReceived": 2, "nimrs.Incident.CreatedDirectly": 2, "nimrs.Incident.DeadlineSet": 2}


def test_every_event_has_a_stable_topic_and_a_class_version() -> None:
    events = {getattr(Incident, name) for name in dir(Incident)
              if isinstance(getattr(Incident, name), type) and issubclass(getattr(Incident, name), Incident.Event)
              and name not in ("Event", "Created")}
    assert {e.TOPIC for e in events} | {Incident.TOPIC} == STORED_TOPICS | NEVER_STORED
    assert {e.TOPIC: e.class_version for e in events if e.class_version != 1 and e.TOPIC not in NEVER_STORED} == VERSION_2
    for event_class in events:  # every version bump can upcast each earlier version's stored events
        assert all(callable(getattr(event_class, f"upcast_v{v}_v{v + 1}", None)) for v in range(1, event_class.class_version))


def test_events_record_who_and_the_injected_time() -> None:
    at = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    report = VpcrReport.from_mapping({
        "jc_case_number": "2026-000001", "jc_reported_at": "2026-05-01T07:00:00-04:00", "facility": "F-1",
        "program": "P", "setting": "Residential", "reported_type": "si.choking", "summary": "s", "rule_set": "earlier"})
    incident = Incident.receive(report, Actor("u", "F-1", Level.EDITOR), at)
    (received,) = incident.collect_events()
    assert received.timestamp == at
    assert received.actor == {"user_id": "u", "facility": "F-1", "level": 2}
    assert incident.setting == "residential" and incident.rule_set_name == "earlier"
    assert incident.id == incident_id_for_case("2026-000001") == incident_id_for_case("2026-000001".lower())
