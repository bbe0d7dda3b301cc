"""The alert mail worker (``nimrs alerts run``): each pass routes the new alerts, then sends the due mail.

Sending claims the due mail from the outbox (held for a lease, so a second worker leaves it alone),
sends each over one SMTP session and records the receipt. A refusal (a 4xx or 5xx reply) or a lost
connection is retried after the backoff; after ``max_attempts`` the mail is dead-lettered, listed by
``nimrs alerts dead`` and put back by ``nimrs alerts retry``. All of it is in the database, so a
restarted worker carries on where the last one stopped. A kill between the server's reply and the
outbox's commit sends that mail again after the lease, with the same ``Message-ID`` (as webhooks are
at least once). Logs name message ids and SMTP replies only, never an address's mail or a body.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import NamedTuple, Protocol

from adapters.mail.router import AlertRouter
from adapters.mail.smtp import SendFailed
from domain.clock import Clock, utc_now
from workflows.alerts import OutgoingMail, QueuedMail

log = logging.getLogger("nimrs.alerts")
DEFAULT_BACKOFF = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)


@dataclass(frozen=True)
class DeliveryPolicy:
    """As the webhooks' (``adapters.integrations.webhook_worker.DeliveryPolicy``), for mail."""

    max_attempts: int = 8
    backoff: Sequence[float] = DEFAULT_BACKOFF  # seconds after the 1st, 2nd... failure (the last repeats)
    timeout: float = 30.0  # seconds to wait for the SMTP server
    poll: float = 1.0  # seconds between passes
    batch: int = 20  # mails claimed at a time
    lease: float = 300.0  # seconds a claimed mail is left alone by other workers (and after a crash)

    def delay(self, failures: int) -> timedelta:
        return timedelta(seconds=self.backoff[min(failures, len(self.backoff)) - 1])


class Connection(Protocol):
    """One session with the mail server (``adapters.mail.smtp.SmtpConnection``)."""

    def send(self, mail: OutgoingMail) -> str:
        """The server's reply (the receipt), or ``SendFailed``."""

    def __enter__(self) -> Connection: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None: ...


class Sender(Protocol):
    def connect(self) -> Connection: ...


class MailQueue(Protocol):
    """The outbox as the worker uses it (``adapters.persistence.mail_outbox``)."""

    def claim(self, at: datetime, limit: int, lease: timedelta) -> list[QueuedMail]: ...

    def sent(self, message_id: str, at: datetime, reply: str) -> None: ...

    def failed(self, message_id: str, attempts: int, error: str, next_at: datetime, dead: bool) -> None: ...


class Pass(NamedTuple):
    routed: int
    sent: int
    failed: int


class MailWorker:
    def __init__(self, outbox: MailQueue, router: AlertRouter, sender: Sender, policy: DeliveryPolicy | None = None,
                 clock: Clock = utc_now) -> None:
        self.outbox = outbox
        self.router = router
        self.sender = sender
        self.policy = policy or DeliveryPolicy()
        self.clock = clock

    def run_once(self) -> Pass:
        """Route the new alerts, then send every mail due now."""
        routed = self.router.route_new()
        sent = failed = 0
        with self.sender.connect() as connection:
            while batch := self.outbox.claim(self.clock(), self.policy.batch, timedelta(seconds=self.policy.lease)):
                for queued in batch:
                    if self._send(connection, queued):
                        sent += 1
                    else:
                        failed += 1
        return Pass(routed, sent, failed)

    def _send(self, connection: Connection, queued: QueuedMail) -> bool:
        mail = queued.mail
        try:
            reply = connection.send(mail)
        except SendFailed as error:
            failures = queued.attempts + 1
            dead = failures >= self.policy.max_attempts
            log.warning("alert mail %s failed (%d of %d): %s", mail.message_id, failures, self.policy.max_attempts,
                        error)
            self.outbox.failed(mail.message_id, failures, str(error), self.clock() + self.policy.delay(failures), dead)
            return False
        self.outbox.sent(mail.message_id, self.clock(), reply)
        return True

    def run(self, stop: threading.Event) -> None:
        """Passes until ``stop`` is set; a pass that fails (the database away) is tried again after ``poll``."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as error:  # noqa: BLE001 -- a long-running worker outlives a database restart
                # The type only: a database error's text can quote the parameters, bodies included.
                log.error("alert mail pass failed: %s", type(error).__name__)
            stop.wait(self.policy.poll)
