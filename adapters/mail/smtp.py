"""Sending mail over SMTP (``NIMRS_SMTP_URL``) with the standard library's ``smtplib``.

- ``smtp://[user:password@]host[:port]`` (port 25 unless given): STARTTLS whenever the server offers it.
  A password is never sent over a connection without TLS, except to this machine (a local relay).
- ``smtps://[user:password@]host[:port]`` (port 465 unless given): TLS from the first byte.

Each message carries ``Message-ID: <message_id@nimrs>``, the same on every attempt, so a message sent
again after a crash (between the server's reply and the outbox's commit) can be recognised as one.
Nothing here logs a body: failures are described by their SMTP code and reply or the error's kind.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from ipaddress import ip_address
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

from domain.clock import Clock, utc_now
from workflows.alerts import OutgoingMail

SCHEMES = {"smtp": 25, "smtps": 465}


class SendFailed(Exception):
    """A message was not accepted: ``str()`` is the server's code and reply, or the error's kind (no body)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def local(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ip_address(self.host).is_loopback
        except ValueError:
            return False


def shown_smtp_url(text: str) -> str:
    """The URL as it may be shown: without its password."""
    scheme, separator, rest = text.partition("://")
    userinfo, at, location = rest.rpartition("@")
    if not separator or not at:
        return text
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{location}" if ":" in userinfo else text


def parse_smtp_url(text: str) -> SmtpServer:
    """``smtp://`` or ``smtps://``, user and password optional; ``ValueError`` with a message hiding the password."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{shown_smtp_url(text)!r} is not an SMTP URL; use smtp://[user:password@]host[:port] "
                         "or smtps://...") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(f"{shown_smtp_url(text)!r}: use smtp://[user:password@]host[:port] or smtps://...")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{shown_smtp_url(text)!r}: an SMTP URL has no path, query or fragment")
    return SmtpServer(parts.hostname, port or SCHEMES[parts.scheme], parts.scheme == "smtps",
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password is not None else None)


def message(mail: OutgoingMail, sender: str, at: str) -> EmailMessage:
    built = EmailMessage()
    built["From"] = sender
    built["To"] = mail.to
    built["Subject"] = mail.subject
    built["Date"] = at
    built["Message-ID"] = f"<{mail.message_id}@nimrs>"
    built["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    built.set_content(mail.body)
    return built


class SmtpConnection:
    """One session with the server, opened when first needed; ``send`` each mail, then ``close``."""

    def __init__(self, server: SmtpServer, sender: str, timeout: float, clock: Clock = utc_now) -> None:
        self.server = server
        self.sender = sender
        self.timeout = timeout
        self.clock = clock
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        server = self.server
        smtp: smtplib.SMTP
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            encrypted = server.implicit_tls
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if server.username is not None:
                if not encrypted and not server.local:
                    raise SendFailed(f"refused: {server.host} offers no STARTTLS, and the password is not sent in clear")
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, mail: OutgoingMail) -> str:
        """Send one mail; the server's reply to it (the receipt), or ``SendFailed``."""
        try:
            if self._smtp is None:
                self._smtp = self._open()
            smtp = self._smtp
            built = message(mail, self.sender, format_datetime(self.clock()))
            code, reply = smtp.mail(self.sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, self.sender)
            code, reply = smtp.rcpt(mail.to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({mail.to: (code, reply)})
            code, reply = smtp.data(built.as_bytes())
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return f"{code} {reply.decode(errors='replace')}"
        except SendFailed:
            self.close()
            raise
        except smtplib.SMTPRecipientsRefused as refused:
            self._reset()
            code, reply = next(iter(refused.recipients.values()))
            raise SendFailed(f"{code} {reply.decode(errors='replace')}") from None
        except smtplib.SMTPResponseException as refused:  # the server answered: the session goes on
            self._reset()
            raise SendFailed(f"{refused.smtp_code} {_text(refused.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as error:  # no answer: start a new session next time
            self.close()
            raise SendFailed(f"{type(error).__name__}: {error}".rstrip(": ")) from None

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


@dataclass(frozen=True)
class SmtpSender:
    """What the worker sends with: the server, the ``From`` address and a timeout; a session per pass."""

    server: SmtpServer
    sender: str
    timeout: float = 30.0
    clock: Clock = utc_now

    def connect(self) -> SmtpConnection:
        return SmtpConnection(self.server, self.sender, self.timeout, self.clock)
