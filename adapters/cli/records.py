"""``nimrs records``: the redacted copy of an incident report for a qualified person's written request.
``copy`` writes it to a file to review (free text can name people in no list); ``release`` builds it again, keeps
it in NIMRS_DOCUMENTS_DIR named by its SHA-256, and records its release, which meets the request's 10-day clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.incidents import Json, Ref, _show
from adapters.cli.support import As, emit, handles_errors, incident_id, out, session

if TYPE_CHECKING:
    from adapters.bootstrap import Runtime
    from domain.actor import Actor
    from workflows.records import CopyFor, StoredCopy

RequestId = Annotated[str, typer.Option("--request-id", help="The qualified person's request (nimrs record-request).")]
Consents = Annotated[list[str] | None, typer.Option(
    "--consent", help="A client id or an employee's or witness's name who consented to be named; repeat for more.")]


def _pdf(copy: CopyFor, actor: Actor) -> bytes:
    from adapters.documents.redacted_copy import CoverLetter, render_pdf  # reportlab: only a copy pays for it

    return render_pdf(copy.report, CoverLetter(recipient=copy.recipient_name, signed_by=actor.user_id))


def register(app: typer.Typer) -> None:
    records_app = typer.Typer(help="Records for a qualified person: the redacted copy of the incident report.",
                              no_args_is_help=True)
    app.add_typer(records_app, name="records")

    @records_app.command("copy")
    @handles_errors
    def records_copy(reference: Ref, request_id: RequestId, user: As,
                     to: Annotated[Path, typer.Option("--out", help="Where to write the PDF to review.")],
                     consent: Consents = None, as_json: Json = False) -> None:
        """Write the redacted copy a request asks for to a file, to review before releasing it (Level 1)."""
        from workflows.records import redacted_copy

        with session() as runtime:
            actor = runtime.accounts.get(user)
            copy = redacted_copy(runtime.service, actor, incident_id(reference), request_id, consent or ())
            content = _pdf(copy, actor)
        to.write_bytes(content)
        to.chmod(0o600)
        emit({"file": str(to), "size": len(content), "labels": copy.report.labels_by_kind()}, as_json,
             lambda d: out.print(f"wrote {d['file']} ({d['size']} bytes); people shown as "
                                 f"{', '.join(d['labels']) or 'no labels'}: read it before you release it"))

    @records_app.command("release")
    @handles_errors
    def records_release(reference: Ref, request_id: RequestId, user: As,
                        method: Annotated[str, typer.Option(help="How it is sent: letter, email, in_person.")] = "letter",
                        consent: Consents = None, as_json: Json = False) -> None:
        """Release the redacted copy: keep the file (named by its SHA-256) and record its release (Level 1)."""
        from workflows.records import release_copy

        with session() as runtime:
            actor = runtime.accounts.get(user)
            keep = _keeper(runtime, actor)
            incident = release_copy(runtime.service, actor, incident_id(reference), request_id, consent or (),
                                    method=method, store=keep)
            _show(runtime.service, actor, incident, as_json)


def _keeper(runtime: Runtime, actor: Actor) -> Callable[[CopyFor], StoredCopy]:
    from adapters.documents.redacted_copy import store_document
    from workflows.records import StoredCopy

    directory = Path(runtime.settings.documents_dir)

    def keep(copy: CopyFor) -> StoredCopy:
        stored = store_document(directory, _pdf(copy, actor))
        return StoredCopy(stored.sha256, stored.size, str(stored.location))

    return keep
