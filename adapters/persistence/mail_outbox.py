"""The alert mail outbox in SQL (tables beside the events): mail to send, and the router's position in the log.

The router (``adapters.mail.router``) adds the mail for a page of events and moves its position in one
transaction (``route``): the position moves only if it is where the router read it from (compare-and-set,
so a second router adds nothing twice), and each mail is inserted only if its ``message_id`` is new (so a
page routed again after a crash adds nothing). The outbox is in the events' database, not the views':
rebuilding a view never sends anything again.

The worker (``adapters.mail.worker``) claims due mail (``claim``: each row's next attempt is pushed past
a lease, so another worker leaves it alone while it is being sent), then records each one ``sent``, with
the receipt (when, and the server's reply), or ``failed`` (retried after the backoff, dead after the
last attempt). Bodies are encrypted with the column cipher when a key is set, as webhook payloads are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from adapters.persistence.schema import mail_outbox, mail_router
from projections.encryption import PLAIN, FieldCipher
from workflows.alerts import DEAD, PENDING, SENT, MailRecord, OutgoingMail, QueuedMail

MAX_TEXT = 500  # last_error and smtp_reply columns


def _insert_new(connection: Connection, table: Any, rows: Sequence[dict[str, Any]], key: str) -> None:
    """Insert the rows whose ``key`` is not there yet (ON CONFLICT DO NOTHING, in either dialect)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=[key]), list(rows))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class SqlMailOutbox:
    def __init__(self, engine: Engine, cipher: FieldCipher = PLAIN) -> None:
        self.engine = engine
        self.cipher = cipher  # a rule with ``details`` puts the program and summary in the body

    # -- the router's side ---------------------------------------------------------------------------

    def position(self, router: str) -> int:
        """How far ``router`` has routed the event log (0: not yet started)."""
        with self.engine.connect() as connection:
            found = connection.execute(select(mail_router.c.position).where(mail_router.c.name == router)).scalar()
        return int(found or 0)

    def route(self, router: str, mails: Sequence[OutgoingMail], expected: int, position: int, at: datetime) -> bool:
        """Add the mails and move the router from ``expected`` to ``position``, in one transaction; False (and
        nothing added) if another router moved it first."""
        with self.engine.begin() as connection:
            _insert_new(connection, mail_router, [{"name": router, "position": 0}], "name")
            moved = connection.execute(update(mail_router).where(and_(
                mail_router.c.name == router, mail_router.c.position == expected)).values(position=position))
            if moved.rowcount != 1:
                connection.rollback()
                return False
            if mails:
                _insert_new(connection, mail_outbox, [self._row(mail, at) for mail in mails], "message_id")
        return True

    def _row(self, mail: OutgoingMail, at: datetime) -> dict[str, Any]:
        return {"message_id": mail.message_id, "facility": mail.facility, "to_address": mail.to, "subject": mail.subject,
                "body": self.cipher.encrypt(mail.body), "created_at": at, "status": PENDING, "attempts": 0,
                "next_attempt_at": at}

    # -- the worker's side ----------------------------------------------------------------------------

    def claim(self, at: datetime, limit: int, lease: timedelta) -> list[QueuedMail]:
        """Up to ``limit`` pending mails due at ``at``, oldest due first, each held for ``lease`` (its next attempt
        moved past it, only if no other worker moved it first)."""
        with self.engine.begin() as connection:
            rows = connection.execute(select(mail_outbox).where(and_(
                mail_outbox.c.status == PENDING, mail_outbox.c.next_attempt_at <= at))
                .order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.message_id).limit(limit)
                .with_for_update(skip_locked=True)).all()
            claimed = []
            for row in rows:
                held = connection.execute(update(mail_outbox).where(and_(
                    mail_outbox.c.message_id == row.message_id, mail_outbox.c.status == PENDING,
                    mail_outbox.c.next_attempt_at == row.next_attempt_at)).values(next_attempt_at=at + lease))
                if held.rowcount == 1:
                    claimed.append(QueuedMail(OutgoingMail(row.message_id, row.facility, row.to_address, row.subject,
                                                           self.cipher.decrypt(row.body)), row.attempts))
        return claimed

    def sent(self, message_id: str, at: datetime, reply: str) -> None:
        """The server accepted the mail: keep the receipt (when, and its reply)."""
        self._update(message_id, status=SENT, sent_at=at, smtp_reply=reply[:MAX_TEXT], last_error=None,
                     attempts=mail_outbox.c.attempts + 1)

    def failed(self, message_id: str, attempts: int, error: str, next_at: datetime, dead: bool) -> None:
        self._update(message_id, status=DEAD if dead else PENDING, attempts=attempts, last_error=error[:MAX_TEXT],
                     next_attempt_at=next_at)

    def _update(self, message_id: str, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(mail_outbox).where(mail_outbox.c.message_id == message_id).values(**values))

    # -- administrators ------------------------------------------------------------------------------

    def listed(self, status: str, facility: str | None, limit: int) -> list[MailRecord]:
        """Mail in ``status`` of ``facility`` (None: every facility), oldest first, without bodies."""
        query = select(mail_outbox).where(mail_outbox.c.status == status)
        if facility is not None:
            query = query.where(mail_outbox.c.facility == facility)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(mail_outbox.c.created_at, mail_outbox.c.message_id).limit(limit))
            return [{"message_id": r.message_id, "facility": r.facility, "to": r.to_address, "subject": r.subject,
                     "status": r.status, "attempts": r.attempts, "created_at": r.created_at.isoformat(),
                     "next_attempt_at": r.next_attempt_at.isoformat(), "last_error": r.last_error,
                     "sent_at": _iso(r.sent_at), "smtp_reply": r.smtp_reply} for r in rows]

    def dead(self, facility: str | None, limit: int = 1000) -> list[MailRecord]:
        return self.listed(DEAD, facility, limit)

    def retry(self, message_id: str, facility: str | None, at: datetime) -> bool:
        """Put a dead mail (of ``facility``; None: any) back in the queue, due now; False if there is none."""
        condition = and_(mail_outbox.c.message_id == message_id, mail_outbox.c.status == DEAD)
        if facility is not None:
            condition = and_(condition, mail_outbox.c.facility == facility)
        with self.engine.begin() as connection:
            result = connection.execute(update(mail_outbox).where(condition).values(
                status=PENDING, attempts=0, next_attempt_at=at, last_error=None))
        return result.rowcount == 1

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(mail_outbox.c.status, func.count()).group_by(mail_outbox.c.status))
            return {status: count for status, count in rows}
