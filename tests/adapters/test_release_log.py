"""A log written by release 0.1.0 replays to the same incidents after the lifecycle moved into the domain.

``tests/fixtures/log-0.1.0.json.gz`` holds the stored events (topics, versions, payloads as stored) of
``nimrs generate --incidents 150 --facilities 2 --seed 9`` and ``nimrs demo``, written by commit 8efddbb,
with each incident's state after every version and its final route, findings, clocks and details as
that release read them. Stored history is never rewritten, so today's code must read it the same.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from adapters.bootstrap import open_service
from adapters.settings import load_settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "log-0.1.0.json.gz"


def _release_log() -> dict[str, Any]:
    with gzip.open(FIXTURE, "rt") as file:
        return json.load(file)  # type: ignore[no-any-return]


def test_a_log_written_by_release_0_1_0_replays_to_the_same_incidents(database_url: str) -> None:
    log = _release_log()
    service = open_service(load_settings({"NIMRS_DATABASE_URL": database_url}))
    try:
        service.store.recorder.insert_events([
            StoredEvent(originator_id=UUID(oid), originator_version=version, topic=topic, state=state.encode())
            for oid, version, topic, state in log["events"]])
        assert len(log["expected"]) > 150
        for incident_id, expected in log["expected"].items():
            states = [str(service.load(UUID(incident_id), version).state)
                      for version in range(1, len(expected["states"]) + 1)]
            assert states == expected["states"], incident_id
            incident = service.load(UUID(incident_id))
            assert (incident.route, incident.findings, incident.details) == \
                (expected["route"], expected["findings"], expected["details"])
            assert (str(incident.closed_from) if incident.closed_from else None) == expected["closed_from"]
            assert {name: [d.length, d.start.isoformat(), d.due.isoformat()] for name, d in incident.deadlines.items()} \
                == expected["deadlines"]
        every_state = {"jc_import_queue", "draft", "emailed_to_omh", "report_of_death_submitted", "under_investigation",
                       "closed"}
        assert set().union(*(expected["states"] for expected in log["expected"].values())) == every_state
    finally:
        service.store.close()


def test_steps_stored_before_attestation_existed_read_as_not_attested(database_url: str) -> None:
    """Release 0.1.0 stored version 1 of EmailedToOmh, ReportOfDeathSubmitted and Closed (no ``attested``):
    the library's mapper and the projector's lean reader both upcast them to ``attested`` False."""
    from projections.decoding import LeanDecoder
    from workflows.screens import event_record

    attestable = {"nimrs.Incident.EmailedToOmh", "nimrs.Incident.ReportOfDeathSubmitted", "nimrs.Incident.Closed"}
    stored = [StoredEvent(originator_id=UUID(oid), originator_version=version, topic=topic, state=state.encode())
              for oid, version, topic, state in _release_log()["events"] if topic in attestable]
    assert {s.topic for s in stored} == attestable
    assert all(b"attested" not in s.state and b"class_version" not in s.state for s in stored)  # as 0.1.0 wrote them
    service = open_service(load_settings({"NIMRS_DATABASE_URL": database_url}))
    try:
        lean = LeanDecoder(service.store.mapper)
        for event in stored:
            ours, theirs = lean(event), service.store.mapper.to_domain_event(event)
            assert vars(ours) == vars(theirs) and theirs.attested is False
            assert event_record(theirs)["data"]["attested"] is False
    finally:
        service.store.close()
