"""The incident use cases: one method per step, named as the step is everywhere (``domain.lifecycle``).

Each loads the incident, checks who may act (level, facility), calls the aggregate's command (which
checks the lifecycle and the details), and saves. The clock is injected so tests and replays control
time. A refused command raises before anything is saved, so the event store is unchanged.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, MapperDeserialisationError

from domain.actor import Actor
from domain.clock import Clock
from domain.errors import Conflict, IncidentNotFound, NotFound, StaleVersion, StoredEventsUnreadable, ValidationFailed
from domain.incident import Incident
from domain.lifecycle import Step, next_state
from domain.obligations.sets import CHARTS_ONLY
from domain.rules import DEFAULT_RULE_SET
from domain.vpcr import VpcrReport
from workflows.permissions import Action, require_facility, require_incident_facility, require_level
from workflows.read_audit import NOT_RECORDED, ReadRecorder, ReadView, reads_of
from workflows.store import IncidentStore
from workflows.turns import Turns

# A command that names no version (no If-Match) is retried this many times when another process saved the incident
# between its load and its save: re-loaded, re-checked and re-decided, so only a real conflict reaches the user.
ATTEMPTS_WITHOUT_PRECONDITION = 8
# Waits between those attempts grow from this, with jitter so that rivals stop meeting each other.
RETRY_PAUSE_SECONDS = 0.002

# One bulk delivery is one transaction. Past a few megabytes, psycopg's pipeline (which the event store's inserts use
# on PostgreSQL) can hang for good with the events table locked (psycopg/psycopg#685): a delivery stays well below.
MAX_BULK_REPORTS = 1000


@dataclass
class BulkReceipt:
    received: list[UUID] = field(default_factory=list)
    duplicates: list[UUID] = field(default_factory=list)


# The version a write expects the incident to be at, or any of several (an If-Match list); None: any.
ExpectedVersion = int | Collection[int] | None


def _matches(expected: ExpectedVersion, version: int) -> bool:
    if expected is None:
        return True
    return version == expected if isinstance(expected, int) else version in expected


def _named(expected: ExpectedVersion) -> str:
    if isinstance(expected, int):
        return str(expected)
    listed = sorted(expected or ())
    return "any of " + ", ".join(map(str, listed)) if listed else "a version the request named"


def _differences(existing: Incident, report: VpcrReport) -> list[str]:
    """The fields (names only, never their values) in which a re-delivered report differs."""
    received = {
        "jc_case_number": existing.jc_case_number, "jc_reported_at": existing.jc_reported_at,
        "facility": existing.facility, "program": existing.program, "setting": existing.setting,
        "summary": existing.summary, "rule_set": existing.rule_set_name,
    }
    delivered = report.as_event_fields()
    return [f"{name} differs from the report already received" for name, value in received.items()
            if value != delivered[name]]


def incident_not_found(incident_id: UUID) -> NotFound:
    """The one answer for an absent incident, and where it must not be told apart, for another facility's."""
    return IncidentNotFound(incident_id)


def charts_only(facility: str) -> str:
    return CHARTS_ONLY


class IncidentService:
    def __init__(self, store: IncidentStore, clock: Clock, *, reads: ReadRecorder = NOT_RECORDED,
                 obligations_for: Callable[[str], str] = charts_only) -> None:
        self.store = store
        self.clock = clock
        self.reads = reads  # the read audit: who was shown which incident (``workflows.read_audit``)
        # facility -> the obligation rules its new incidents pin (``workflows.facilities``)
        self.obligations_for = obligations_for
        self.turns = Turns()  # one command at a time per incident in this process

    # -- reads -------------------------------------------------------------------------------

    def load(self, incident_id: UUID, version: int | None = None) -> Incident:
        """The incident, unchecked and unrecorded: for the use cases, never handed to a reader as it is."""
        try:
            incident: object = self.store.repository.get(incident_id, version=version)
        except AggregateNotFoundError:
            raise incident_not_found(incident_id) from None
        except MapperDeserialisationError:
            raise StoredEventsUnreadable(
                f"the stored events of incident {incident_id} cannot be read: NIMRS_CIPHER_KEY is missing "
                "or is not the key they were written with") from None
        assert isinstance(incident, Incident)
        return incident

    def incident(self, actor: Actor, incident_id: UUID, version: int | None = None) -> Incident:
        """The incident (at a version), for a user who may read it; recorded as a read."""
        incident = self._readable(actor, incident_id, version)
        self.record_read(actor, ReadView.SHOW, incident_id, incident.facility)
        return incident

    def history(self, actor: Actor, incident_id: UUID) -> list[Any]:
        """Every stored event of the incident, oldest first; recorded as a read."""
        events = self.readable_events(actor, incident_id)
        self.record_read(actor, ReadView.HISTORY, incident_id, events[0].facility)
        return events

    def readable_events(self, actor: Actor, incident_id: UUID) -> list[Any]:
        """Every stored event, for a user who may read them; not recorded: the caller records what it shows."""
        self._readable(actor, incident_id)
        return list(self.store.repository.event_store.get(incident_id))

    def record_read(self, actor: Actor, view: ReadView, incident_id: UUID, facility: str) -> None:
        self.reads.record(reads_of(actor, view, [(str(incident_id), facility)], self.clock()))

    def _readable(self, actor: Actor, incident_id: UUID, version: int | None = None) -> Incident:
        require_level(actor, Action.READ)
        incident = self.load(incident_id, version)
        require_incident_facility(actor, incident_id, incident.facility, reading=True)
        return incident

    # -- the JC import queue -----------------------------------------------------------------

    def receive_vpcr_report(self, actor: Actor, report: VpcrReport) -> tuple[UUID, bool]:
        """Receive one report into the JC import queue; a re-delivery of it is a no-op.

        Returns the incident id and whether this delivery added it.
        """
        receipt = self.receive_vpcr_reports(actor, [report])
        return report.incident_id, bool(receipt.received)

    def receive_vpcr_reports(self, actor: Actor, reports: Sequence[VpcrReport]) -> BulkReceipt:
        """Receive many reports in one transaction (the bulk path): all are stored, or none."""
        require_level(actor, Action.RECEIVE)
        if len(reports) > MAX_BULK_REPORTS:
            raise ValidationFailed(f"one delivery holds at most {MAX_BULK_REPORTS} VPCR reports, this one {len(reports)}: "
                                   "send them in parts")
        unique: dict[UUID, VpcrReport] = {}
        for report in reports:
            require_facility(actor, report.facility, f"facility {report.facility!r}")
            earlier = unique.setdefault(report.incident_id, report)
            if earlier != report:
                raise Conflict(f"JC case {report.jc_case_number} appears twice with different content")
        receipt = BulkReceipt()
        now = self.clock()
        obligations = self.obligations_for(actor.facility)
        new = [Incident.receive(r, actor, now, obligations=obligations) for r in unique.values()]
        try:
            self.store.save(*new)
            receipt.received = [i.id for i in new]
            return receipt
        except IntegrityError:
            pass  # some were received before: sort them out below, then store the rest at once
        fresh = []
        for report in unique.values():
            try:
                existing = self.load(report.incident_id)
            except NotFound:
                fresh.append(Incident.receive(report, actor, now, obligations=obligations))
                continue
            if existing.facility != actor.facility:  # another facility's: nothing of its record is told
                raise Conflict(f"JC case {report.jc_case_number} was already received with different content")
            if problems := _differences(existing, report):
                raise Conflict(f"JC case {report.jc_case_number} was already received with different content",
                               problems=problems)
            receipt.duplicates.append(existing.id)
        self._save(*fresh)
        receipt.received = [i.id for i in fresh]
        return receipt

    def create_incident(self, actor: Actor, *, program: str, setting: str, code: str, summary: str,
                        rules: str = DEFAULT_RULE_SET, incident_id: UUID | None = None) -> UUID:
        """"New Incident": the OMH-only path, or a local record of a not-reportable incident."""
        require_level(actor, Action.CREATE)
        incident = Incident.create(incident_id or uuid4(), actor, self.clock(), program=program, setting=setting,
                                   code=code, summary=summary, rules=rules,
                                   obligations=self.obligations_for(actor.facility))
        self._save(incident)
        return incident.id

    # -- workflow steps ------------------------------------------------------------------------

    def import_report(self, actor: Actor, incident_id: UUID, expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.IMPORT_REPORT, expected_version,
                          lambda i, at: i.import_report(actor, at))

    def record_details(self, actor: Actor, incident_id: UUID, screen: str, fields: dict[str, Any],
                       expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.RECORD_DETAILS, expected_version,
                          lambda i, at: i.record_details(actor, at, screen, fields))

    def email_omh(self, actor: Actor, incident_id: UUID, expected_version: ExpectedVersion = None, *,
                  attested: bool = False) -> Incident:
        return self._step(actor, incident_id, Step.EMAIL_OMH, expected_version,
                          lambda i, at: i.email_omh(actor, at, attested=attested))

    def submit_report_of_death(self, actor: Actor, incident_id: UUID, expected_version: ExpectedVersion = None, *,
                               attested: bool = False) -> Incident:
        return self._step(actor, incident_id, Step.SUBMIT_REPORT_OF_DEATH, expected_version,
                          lambda i, at: i.submit_report_of_death(actor, at, attested=attested))

    def start_investigation(self, actor: Actor, incident_id: UUID, expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.START_INVESTIGATION, expected_version,
                          lambda i, at: i.start_investigation(actor, at))

    def document_findings(self, actor: Actor, incident_id: UUID, findings: str,
                          expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.DOCUMENT_FINDINGS, expected_version,
                          lambda i, at: i.document_findings(actor, at, findings))

    def close(self, actor: Actor, incident_id: UUID, expected_version: ExpectedVersion = None, *,
              attested: bool = False) -> Incident:
        return self._step(actor, incident_id, Step.CLOSE, expected_version,
                          lambda i, at: i.close(actor, at, attested=attested))

    def reopen(self, actor: Actor, incident_id: UUID, reason: str, expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.REOPEN, expected_version, lambda i, at: i.reopen(actor, at, reason))

    def amend(self, actor: Actor, incident_id: UUID, screen: str, fields: dict[str, Any], reason: str,
              expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.AMEND, expected_version,
                          lambda i, at: i.amend(actor, at, screen, fields, reason))

    # -- the notification ledger and obligations (ADR 0014) ----------------------------------------

    def record_notice_recipient(self, actor: Actor, incident_id: UUID, recipient: dict[str, Any],
                                expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.RECORD_NOTICE_RECIPIENT, expected_version,
                          lambda i, at: i.record_notice_recipient(actor, at, recipient))

    def record_notification(self, actor: Actor, incident_id: UUID, notification: dict[str, Any],
                            expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.RECORD_NOTIFICATION, expected_version,
                          lambda i, at: i.record_notification(actor, at, notification))

    def record_request(self, actor: Actor, incident_id: UUID, *, request_id: str, kind: str, requested_by: str,
                       received_at: Any, expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.RECORD_REQUEST, expected_version, lambda i, at: i.record_request(
            actor, at, request_id=request_id, kind=kind, requested_by=requested_by, received_at=received_at))

    def release_records(self, actor: Actor, incident_id: UUID, *, request_id: str, released_at: Any, method: str,
                        document: dict[str, Any], redactions: dict[str, Any],
                        expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.RELEASE_RECORDS, expected_version, lambda i, at: i.release_records(
            actor, at, request_id=request_id, released_at=released_at, method=method, document=document,
            redactions=redactions))

    def send_to_jc(self, actor: Actor, incident_id: UUID, *, what: str, sent_at: Any, request_id: str | None = None,
                   evidence: dict[str, Any] | None = None, expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.SEND_TO_JC, expected_version, lambda i, at: i.send_to_jc(
            actor, at, what=what, sent_at=sent_at, request_id=request_id, evidence=evidence))

    def submit_wsir(self, actor: Actor, incident_id: UUID, reference: str,
                    expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.SUBMIT_WSIR, expected_version,
                          lambda i, at: i.submit_wsir(actor, at, reference))

    def waive_obligation(self, actor: Actor, incident_id: UUID, key: str, reason: str,
                         expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.WAIVE_OBLIGATION, expected_version,
                          lambda i, at: i.waive_obligation(actor, at, key, reason))

    def extend_obligation(self, actor: Actor, incident_id: UUID, key: str, due: Any, reason: str,
                          expected_version: ExpectedVersion = None) -> Incident:
        return self._step(actor, incident_id, Step.EXTEND_OBLIGATION, expected_version,
                          lambda i, at: i.extend_obligation(actor, at, key, due, reason))

    def record_clock_alerts(self, incident_id: UUID) -> tuple[list[str], list[str]]:
        """The clock process's command (no user acts): record ClockDueSoon and ClockMissed where the incident has
        none for an obligation's due time; the obligations' keys. A concurrent change is retried once, reloaded."""
        for attempt in range(2):
            incident = self.load(incident_id)
            now = self.clock()
            missed = incident.record_clock_missed(now)
            due_soon = incident.record_clock_due_soon(now)
            if not missed and not due_soon:
                return [], []
            try:
                self.store.save(incident)
                return due_soon, missed
            except IntegrityError:
                if attempt:
                    raise Conflict("the incident changed twice while its clocks were recorded; the next pass retries") from None
        return [], []

    def check_step(self, actor: Actor, incident_id: UUID, step: Step) -> Incident:
        """Refuse now, with the step's own error, what the step would refuse (another facility's or absent,
        the user's level, the lifecycle), before the caller asks the user for more (a password to attest)."""
        require_level(actor, step)
        incident = self.load(incident_id)
        require_incident_facility(actor, incident_id, incident.facility)
        next_state(incident, step)
        return incident

    def _step(self, actor: Actor, incident_id: UUID, step: Step, expected_version: ExpectedVersion,
              command: Callable[[Incident, datetime], None]) -> Incident:
        require_level(actor, step)
        with self.turns.of(incident_id):
            for attempt in range(1, ATTEMPTS_WITHOUT_PRECONDITION + 1):
                incident = self.load(incident_id)
                require_incident_facility(actor, incident_id, incident.facility)
                if not _matches(expected_version, incident.version):
                    raise StaleVersion(f"incident {incident_id} is at version {incident.version}, not "
                                       f"{_named(expected_version)}; reload it and try again")
                command(incident, self.clock())  # the aggregate checks its lifecycle and refuses before recording
                decided = incident.collect_events()
                try:
                    self.store.save(*decided)
                    return incident
                except IntegrityError:
                    if self._stored_already(incident_id, decided):
                        return incident  # it was saved, and only the answer was lost (the store retried the commit)
                    # Another process saved it meanwhile. With a version named, the user decides; without one,
                    # decide again on what is there now (the lifecycle may now refuse: that is the real conflict).
                    if expected_version is not None or attempt == ATTEMPTS_WITHOUT_PRECONDITION:
                        raise _conflict() from None
                    time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * 2 ** attempt))  # noqa: S311 - jitter, not secrets
        raise AssertionError("unreachable")

    def _stored_already(self, incident_id: UUID, decided: Sequence[Any]) -> bool:
        """Whether the events at the versions just refused are these very events (same time, actor and fields)."""
        if not decided:
            return False
        stored = list(self.store.repository.event_store.get(incident_id, gt=decided[0].originator_version - 1,
                                                            lte=decided[-1].originator_version))
        return stored == list(decided)

    def _save(self, *incidents: Incident) -> None:
        try:
            self.store.save(*incidents)
        except IntegrityError:
            raise _conflict() from None


def _conflict() -> Conflict:
    return Conflict("the incident was changed by someone else at the same time; reload it and try again")
