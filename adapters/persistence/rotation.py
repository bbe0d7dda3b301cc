"""Key rotation of the encrypted columns beside the events (``nimrs keys rotate``).

The event log is append-only and is not rewritten: its events stay readable with the older keys
(``NIMRS_CIPHER_OLD_KEYS``). The views are rebuilt from it (``adapters.projection_runner``).
What is left is re-encrypted here, in place, with the newest key: webhook signing secrets and
delivery payloads, security log details, and alert mail bodies. Each batch is its own short transaction, and a
value is decrypted with whichever key wrote it, so a rotation that was stopped can simply be run
again.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Table, and_, select, tuple_, update
from sqlalchemy.engine import Engine

from adapters.persistence.schema import deliveries, facility_settings, mail_outbox, security_log, subscriptions, users

BATCH = 500
ENCRYPTED_COLUMNS: tuple[tuple[Table, str], ...] = (
    (subscriptions, "secret"), (deliveries, "payload"), (security_log, "detail"), (mail_outbox, "body"),
    (facility_settings, "value"), (facility_settings, "reason"), (users, "email"))


def reencrypt(engine: Engine, reencrypt_text: Callable[[str], str]) -> dict[str, int]:
    """Re-encrypt every encrypted column beside the events; rows rewritten per ``table.column``."""
    return {f"{table.name}.{name}": _column(engine, table, table.c[name], reencrypt_text)
            for table, name in ENCRYPTED_COLUMNS}


def _column(engine: Engine, table: Table, column: Column[str], reencrypt_text: Callable[[str], str]) -> int:
    key = list(table.primary_key.columns)
    after: tuple[object, ...] | None = None
    done = 0
    while True:
        query = select(*key, column).where(column.is_not(None)).order_by(*key).limit(BATCH)
        if after is not None:
            query = query.where(tuple_(*key) > tuple_(*after)) if len(key) > 1 else query.where(key[0] > after[0])
        with engine.begin() as connection:
            rows = connection.execute(query).all()
            for row in rows:
                *ids, value = row
                connection.execute(update(table).where(and_(*(c == v for c, v in zip(key, ids, strict=True))))
                                   .values({column.name: reencrypt_text(value)}))
        done += len(rows)
        if len(rows) < BATCH:
            return done
        after = tuple(rows[-1][:-1])

