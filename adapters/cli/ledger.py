"""CLI commands for the notification ledger's steps (docs/adr/0014), each run as a named user (``--as``).

Values are options, not JSON files. A time typed without an offset is New York time. An evidence file or a
released document is hashed where it lies: the event records its SHA-256, its size and the path as given, never
its content. Names, contacts and notes are protected health information: they go into the event and nowhere else.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.incidents import As, Expect, Json, Ref, _step
from adapters.cli.support import handles_errors
from domain.deadlines import parse_moment
from domain.errors import ValidationFailed

if TYPE_CHECKING:
    from workflows.service import IncidentService

CHUNK = 1 << 20
METHODS = "phone, letter, email or in_person"
RecipientId = Annotated[str, typer.Option("--recipient-id", help="Your id for the person, e.g. qp-1.")]
RequestId = Annotated[str, typer.Option("--request-id", help="Your id for the request, e.g. req-1.")]
Key = Annotated[str, typer.Option("--key", help="The obligation, as `nimrs show` names its clock.")]
Reason = Annotated[str, typer.Option("--reason", help="Why; recorded in the event.")]
EvidenceFile = Annotated[str | None, typer.Option("--evidence-file", metavar="PATH",
                                                  help="A file kept as evidence: hashed, not copied.")]


def when(text: str, field: str, service: IncidentService) -> datetime:
    """A time typed on the command line: ISO 8601; without an offset, New York time."""
    return parse_moment(text, field, now=service.clock())


def file_evidence(path: str, option: str) -> dict[str, Any]:
    """``{sha256, size, location}`` of a file, read in chunks; the location is the path as given."""
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as error:
        raise ValidationFailed(f"cannot read {option} {path!r}: {error.strerror or error}") from None
    return {"sha256": digest.hexdigest(), "size": size, "location": path}


def contacts(given: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in given or []:
        method, sep, value = item.partition("=")
        if not sep or not method:
            raise ValidationFailed(f"--contact {item!r} must look like method=value, e.g. phone=555-0100")
        found[method] = value
    return found


def register(app: typer.Typer) -> None:  # noqa: C901 - one small function per command
    @app.command("record-notice-recipient")
    @handles_errors
    def record_notice_recipient(
        reference: Ref, user: As, recipient_id: RecipientId,
        role: Annotated[str, typer.Option(help="qualified_person, director or law_enforcement.")],
        name: Annotated[str, typer.Option(help="The person's full name.")],
        relationship: Annotated[str | None, typer.Option(help="To the client, e.g. sister.")] = None,
        client_id: Annotated[str | None, typer.Option("--client-id", help="The client the notice is about.")] = None,
        contact: Annotated[list[str] | None, typer.Option(help=f"method=value ({METHODS}); repeat for more.")] = None,
        preferred: Annotated[list[str] | None, typer.Option(help="A method; repeat, most preferred first.")] = None,
        expect: Expect = None, as_json: Json = False,
    ) -> None:
        """Record a person owed notice (again with the same --recipient-id: replaced)."""
        recipient = {"recipient_id": recipient_id, "role": role, "name": name, "relationship": relationship,
                     "client_id": client_id, "contacts": contacts(contact), "preferred": list(preferred or [])}
        _step(user, reference, as_json, lambda s, a, i: s.record_notice_recipient(a, i, recipient, expect))

    @app.command("record-notification")
    @handles_errors
    def record_notification(
        reference: Ref, user: As, recipient_id: RecipientId,
        notified_at: Annotated[str, typer.Option("--notified-at", help="ISO 8601; without an offset, New York time.")],
        method: Annotated[str, typer.Option(help=METHODS + ".")],
        outcome: Annotated[str, typer.Option(help="reached, message_left, refused or not_reached.")],
        note: Annotated[str | None, typer.Option(help="What was said or tried.")] = None, evidence_file: EvidenceFile = None,
        expect: Expect = None, as_json: Json = False,
    ) -> None:
        """Record a notification made to a recorded recipient."""
        evidence = file_evidence(evidence_file, "--evidence-file") if evidence_file is not None else None
        _step(user, reference, as_json, lambda s, a, i: s.record_notification(a, i, {
            "recipient_id": recipient_id, "notified_at": when(notified_at, "notified_at", s), "method": method,
            "outcome": outcome, "note": note, "evidence": evidence}, expect))

    @app.command("record-request")
    @handles_errors
    def record_request(
        reference: Ref, user: As, request_id: RequestId,
        kind: Annotated[str, typer.Option(help="incident_report_copy, investigation_records or jc_information.")],
        requested_by: Annotated[str, typer.Option("--requested-by", help="A qualified person's --recipient-id, "
                                                                        "or justice_center.")],
        received_at: Annotated[str, typer.Option("--received-at", help="ISO 8601; without an offset, New York time.")],
        expect: Expect = None, as_json: Json = False,
    ) -> None:
        """Record a written request for records or information, which starts its clock."""
        _step(user, reference, as_json, lambda s, a, i: s.record_request(
            a, i, request_id=request_id, kind=kind, requested_by=requested_by,
            received_at=when(received_at, "received_at", s), expected_version=expect))

    @app.command("release-records")
    @handles_errors
    def release_records(
        reference: Ref, user: As, request_id: RequestId,
        released_at: Annotated[str, typer.Option("--released-at", help="ISO 8601; without an offset, New York time.")],
        method: Annotated[str, typer.Option(help=METHODS + ".")],
        document: Annotated[str, typer.Option(metavar="PATH", help="The document released: hashed, not copied.")],
        expect: Expect = None, as_json: Json = False,
    ) -> None:
        """Record the records released for a request (Level 1)."""
        released = file_evidence(document, "--document")
        _step(user, reference, as_json, lambda s, a, i: s.release_records(
            a, i, request_id=request_id, released_at=when(released_at, "released_at", s), method=method,
            document=released, redactions={}, expected_version=expect))

    @app.command("send-to-jc")
    @handles_errors
    def send_to_jc(
        reference: Ref, user: As,
        what: Annotated[str, typer.Option(help="autopsy_report or additional_information.")],
        sent_at: Annotated[str, typer.Option("--sent-at", help="ISO 8601; without an offset, New York time.")],
        request_id: Annotated[str | None, typer.Option("--request-id", help="The JC's request this answers.")] = None,
        evidence_file: EvidenceFile = None, expect: Expect = None, as_json: Json = False,
    ) -> None:
        """Record an autopsy report or information sent to the JC (Level 1)."""
        evidence = file_evidence(evidence_file, "--evidence-file") if evidence_file is not None else None
        _step(user, reference, as_json, lambda s, a, i: s.send_to_jc(
            a, i, what=what, sent_at=when(sent_at, "sent_at", s), request_id=request_id, evidence=evidence,
            expected_version=expect))

    @app.command("submit-wsir")
    @handles_errors
    def submit_wsir(reference: Ref, user: As, wsir: Annotated[str, typer.Option("--reference", help="The WSIR's reference.")],
                    expect: Expect = None, as_json: Json = False) -> None:
        """Record the WSIR submitted for an abuse or neglect investigation (Level 1)."""
        _step(user, reference, as_json, lambda s, a, i: s.submit_wsir(a, i, wsir, expect))

    @app.command("waive-obligation")
    @handles_errors
    def waive_obligation(reference: Ref, user: As, key: Key, reason: Reason, expect: Expect = None,
                         as_json: Json = False) -> None:
        """Waive an open obligation, with a reason (Level 1)."""
        _step(user, reference, as_json, lambda s, a, i: s.waive_obligation(a, i, key, reason, expect))

    @app.command("extend-obligation")
    @handles_errors
    def extend_obligation(
        reference: Ref, user: As, key: Key,
        due: Annotated[str, typer.Option(help="ISO 8601; without an offset, New York time; a bare date: its end.")],
        reason: Reason, expect: Expect = None, as_json: Json = False,
    ) -> None:
        """Extend an open obligation to a later due time, with a reason (Level 1, where its clock allows)."""
        _step(user, reference, as_json, lambda s, a, i: s.extend_obligation(a, i, key, when(due, "due", s), reason,
                                                                            expect))
