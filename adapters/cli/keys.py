"""``nimrs keys rotate``: move everything but the append-only event log to a new encryption key.

Rotation, step by step (README, "Storage"): make a key with ``nimrs keygen``; restart every process
with ``NIMRS_CIPHER_KEY`` = the new key and ``NIMRS_CIPHER_OLD_KEYS`` = the old one(s); run
``nimrs keys rotate``. New events are encrypted with the new key; older ones stay readable with the
old keys (an event is never rewritten), so keep them for as long as the log is kept.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from adapters.cli.choices import VIEW_NAMES
from adapters.cli.support import emit, handles_errors, out, settings
from domain.errors import ValidationFailed

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
Workers = Annotated[int | None, typer.Option("--workers", help="Processes rebuilding the views (default: up to 2).")]


def _render(result: dict[str, Any]) -> None:
    for column, rows in result["reencrypted"].items():
        out.print(f"re-encrypted {column}: {rows} rows", highlight=False)
    out.print(f"rebuilt the views ({', '.join(result['views'])}) from {result['events']} log entries", highlight=False)


def register(app: typer.Typer) -> None:
    keys_app = typer.Typer(help="Encryption keys at rest (NIMRS_CIPHER_KEY, NIMRS_CIPHER_OLD_KEYS).",
                           no_args_is_help=True)
    app.add_typer(keys_app, name="keys")

    @keys_app.command("rotate")
    @handles_errors
    def rotate(workers: Workers = None, as_json: Json = False) -> None:
        """Re-encrypt with NIMRS_CIPHER_KEY all but the event log: webhook secrets and payloads, security log
        details (in place), and the views (rebuilt). Run it after restarting every process with the new key."""
        from adapters.bootstrap import Runtime
        from adapters.persistence.rotation import reencrypt
        from adapters.projection_runner import workers as projection_workers

        chosen = settings()
        if chosen.cipher_key is None:
            raise ValidationFailed("NIMRS_CIPHER_KEY is not set: set it to the new key (`nimrs keygen`) and "
                                   "NIMRS_CIPHER_OLD_KEYS to the old one(s)")
        with Runtime(chosen) as runtime:
            rewritten = reencrypt(runtime.engine, runtime.cipher.reencrypt)
        events = projection_workers.rebuild(chosen, VIEW_NAMES, workers=workers)
        emit({"reencrypted": rewritten, "views": list(VIEW_NAMES), "events": events}, as_json, _render)
