"""Tamper evidence: ``nimrs seal``, ``nimrs verify`` and ``nimrs checkpoint export`` (docs/adr/0010-tamper-evidence.md)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.support import EXIT_CODES, emit, err, handles_errors, out, settings
from domain.errors import ValidationFailed

if TYPE_CHECKING:
    from adapters.persistence.event_chain import Link, Verdict

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _verdict_text(verdict: Verdict) -> str:
    checkpoint = (f", reproducing the checkpoint at position {verdict.checkpoint.position}"
                  if verdict.checkpoint else "")
    text = (f"the log verifies: {verdict.checked - verdict.unsealed} sealed events, through position "
            f"{verdict.sealed_through}, match their chain{checkpoint}")
    if verdict.unsealed:
        text += f"; {verdict.unsealed} newer events are not sealed yet (`nimrs seal` seals them)"
    return text


def register(app: typer.Typer) -> None:
    @app.command("seal")
    @handles_errors
    def seal(
        follow: Annotated[bool, typer.Option("--follow", help="Keep sealing new events until stopped (Ctrl-C).")] = False,
        as_json: Json = False,
    ) -> None:
        """Add the events written since the last seal to the log's hash chain (a server does it every 0.2 s)."""
        from adapters.bootstrap import Runtime

        with Runtime(settings()) as runtime:
            chain = runtime.event_chain
            sealed = chain.seal()
            if follow:
                out.print(f"sealing new events in {runtime.settings.describe_database()} (Ctrl-C stops)")
                stop = threading.Event()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(signum, lambda *_: stop.set())
                chain.follow(stop)
            head = chain.head()
        result = {"sealed_events": sealed, "sealed_through": head.position if head else 0}
        emit(result, as_json, lambda r: out.print(
            f"sealed {r['sealed_events']} events; the chain covers the log through position {r['sealed_through']}"))

    @app.command("verify")
    @handles_errors
    def verify(
        from_checkpoint: Annotated[Path | None, typer.Option(
            "--from-checkpoint", help="A file of `nimrs checkpoint export`: the log must still reproduce it "
                                      "(needs NIMRS_CHECKPOINT_KEY).")] = None,
        as_json: Json = False,
    ) -> None:
        """Re-check the whole event log against its hash chain; exit 8 naming the first position that does not match."""
        from adapters.bootstrap import Runtime

        chosen = settings()
        checkpoint = _checkpoint(from_checkpoint, chosen.checkpoint_signing_key) if from_checkpoint else None
        with Runtime(chosen) as runtime:
            verdict = runtime.event_chain.verify(checkpoint)
        if as_json:
            emit(verdict.as_dict(), True)
        elif verdict.first_break is None:
            out.print(_verdict_text(verdict), highlight=False)
        else:
            found = verdict.first_break
            err.print(f"[bold red]error:[/] the log does not verify at position {found.position} ({found.kind}): "
                      f"{found.message}", highlight=False)
        if not verdict.ok:
            raise typer.Exit(EXIT_CODES["tampered"])

    checkpoint_app = typer.Typer(help="Signed checkpoints of the event log's hash chain, for auditors.",
                                 no_args_is_help=True)
    app.add_typer(checkpoint_app, name="checkpoint")

    @checkpoint_app.command("export")
    @handles_errors
    def export(as_json: Json = False) -> None:
        """Seal, verify, and print a checkpoint signed with NIMRS_CHECKPOINT_KEY (JSON) to keep outside the system."""
        from adapters.bootstrap import Runtime
        from adapters.persistence.checkpoints import sign

        chosen = settings()
        key = chosen.checkpoint_signing_key
        with Runtime(chosen) as runtime:
            runtime.event_chain.seal()
            head = runtime.event_chain.head()  # what is signed; the verification below reaches at least this far
            verdict = runtime.event_chain.verify()
            at = runtime.clock()
        if verdict.first_break is not None:
            found = verdict.first_break
            err.print(f"[bold red]error:[/] no checkpoint: the log does not verify at position {found.position} "
                      f"({found.kind}): {found.message}", highlight=False)
            raise typer.Exit(EXIT_CODES["tampered"])
        if head is None:
            raise ValidationFailed("the log is empty: there is nothing to checkpoint yet")
        emit(sign(head, key, at), True)


def _checkpoint(path: Path, key: bytes) -> Link:
    from adapters.persistence.checkpoints import read

    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationFailed(f"cannot read the checkpoint file {str(path)!r}: {error}") from None
    return read(text, key)
