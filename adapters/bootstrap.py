"""The composition root: the one place a process's parts are built, from its settings and a clock.

The CLI, the HTTP server, the webhook worker and the projector processes all start from a
``Runtime``: each part (event store, use cases, engines, projector, read models, accounts, security
log, webhooks, feed) is built the first time it is asked for, once, and ``close()`` releases what
was built. Each part's modules are imported when it is built, too: a short command (``nimrs show``) pays
for the event store and the accounts, not for the projector, the views, webhooks or mail. The real clock
(``domain.clock.utc_now``) is handed out here; tests hand in their own.

    with Runtime(load_settings()) as runtime:
        runtime.service.import_report(runtime.accounts.get("risk.manager"), incident_id)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from adapters.settings import Settings, load_settings
from domain.clock import Clock, utc_now
from domain.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from adapters.integrations.destinations import Destinations
    from adapters.integrations.feed import Feed
    from adapters.integrations.webhook_worker import DeliveryPolicy, WebhookWorker
    from adapters.mail.worker import DeliveryPolicy as MailPolicy
    from adapters.mail.worker import MailWorker
    from adapters.persistence.anonymous_refusals import AnonymousRefusalLog
    from adapters.persistence.cipher import ColumnCipher
    from adapters.persistence.event_chain import EventChain
    from adapters.persistence.mail_outbox import SqlMailOutbox
    from adapters.persistence.read_audit import BufferedReadLog
    from adapters.persistence.security_log import SecurityLog
    from adapters.persistence.webhooks import SqlWebhookRepository
    from projections.projector import Projector
    from projections.reads import ReadModels
    from projections.view import View
    from workflows.accounts import AccountService
    from workflows.alerts import AlertFacts, AlertRule
    from workflows.clocks import ClockProcess
    from workflows.facilities import FacilityService
    from workflows.readers import ReadAudit
    from workflows.service import IncidentService
    from workflows.store import IncidentStore
    from workflows.webhooks import WebhookService

SERVER_CACHE = 5000  # incidents a server keeps in memory (each load still reads newer events first)

__all__ = ["Runtime", "Settings", "load_settings", "open_service", "open_store", "views_engine"]


def open_store(settings: Settings, *, cache: int = 0, create_tables: bool = True) -> IncidentStore:
    """The event store; ``create_tables=False`` where a parent process made its tables already."""
    from adapters.persistence.event_store import event_store_env
    from workflows.store import IncidentStore

    return IncidentStore(env=event_store_env(settings, cache=cache, create_tables=create_tables))


def open_service(settings: Settings, clock: Clock = utc_now) -> IncidentService:
    """The incident use cases on their own event store (close it with ``service.store.close()``). New incidents pin
    the installation's default obligation rules; a ``Runtime``'s service also asks each facility's own choice."""
    from workflows.service import IncidentService

    return IncidentService(open_store(settings), clock, obligations_for=lambda facility: settings.obligations_default)


def views_engine(settings: Settings) -> Engine:
    """The read models' engine, their tables brought to the newest schema."""
    from adapters.persistence.engines import build_engine
    from adapters.persistence.migrate import upgrade

    engine = build_engine(settings.views, views=True)
    upgrade(engine, "views")
    return engine


class Runtime:
    """A process's parts, each built once, when first used."""

    def __init__(self, settings: Settings | None = None, clock: Clock = utc_now, *, server: bool = False,
                 create_event_tables: bool = True) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.clock = clock
        self.server = server  # a long-lived, many-threaded process: cached incidents, pooled connections
        self.create_event_tables = create_event_tables

    # -- the incidents ---------------------------------------------------------------------------

    @cached_property
    def store(self) -> IncidentStore:
        return open_store(self.settings, cache=SERVER_CACHE if self.server else 0,
                          create_tables=self.create_event_tables)

    @cached_property
    def service(self) -> IncidentService:
        from workflows.service import IncidentService

        # the facilities' settings are built when a new incident first asks which rules to pin, not for a read
        return IncidentService(self.store, self.clock, reads=self.read_log,
                               obligations_for=lambda facility: self.facilities.obligations_for(facility))

    @cached_property
    def facilities(self) -> FacilityService:
        from adapters.persistence.facility_settings import SqlFacilitySettings
        from workflows.facilities import FacilityService

        return FacilityService(SqlFacilitySettings(self.engine, self.cipher), self.clock,
                               default_obligations=self.settings.obligations_default)

    # -- the events' database: accounts, security log, webhooks ---------------------------------------

    @cached_property
    def engine(self) -> Engine:
        from adapters.persistence.engines import build_engine
        from adapters.persistence.migrate import upgrade

        engine = build_engine(self.settings.database, pooled=self.server)
        upgrade(engine, "events")
        return engine

    @cached_property
    def cipher(self) -> ColumnCipher:
        """The event store's keys for every other copy of patient data (views, webhooks, security log)."""
        from adapters.persistence.cipher import column_cipher

        return column_cipher(self.settings)

    @cached_property
    def accounts(self) -> AccountService:
        from adapters.credentials import Argon2Hasher, OpaqueTokens
        from adapters.persistence.accounts import SqlAccountRepository
        from adapters.persistence.rate_limits import SqlRateLimits
        from workflows.accounts import AccountService, SignInLimits

        return AccountService(SqlAccountRepository(self.engine, self.security_log, self.cipher), Argon2Hasher(),
                              OpaqueTokens(), self.clock,
                              timedelta(minutes=self.settings.token_minutes), limits=SqlRateLimits(self.engine),
                              sign_in_limits=SignInLimits(self.settings.sign_in_limit_per_user,
                                                          self.settings.sign_in_limit_per_address))

    @cached_property
    def anonymous_refusals(self) -> AnonymousRefusalLog:
        from adapters.persistence.anonymous_refusals import AnonymousRefusalLog

        return AnonymousRefusalLog(self.engine)

    @cached_property
    def security_log(self) -> SecurityLog:
        from adapters.persistence.security_log import SecurityLog

        return SecurityLog(self.engine, self.cipher)

    @cached_property
    def event_chain(self) -> EventChain:
        """The event log's hash chain (tamper evidence, docs/adr/0010-tamper-evidence.md)."""
        from adapters.persistence.event_chain import EventChain

        return EventChain(self.engine, self.store.recorder)

    def seal_written(self) -> int:
        """Seal the events this process may have written (a short-lived command's last step); how many."""
        return self.event_chain.seal() if "store" in vars(self) else 0

    @cached_property
    def read_log(self) -> BufferedReadLog:
        """Who read which incident: written by a background thread in a server, at ``close()`` elsewhere."""
        from adapters.persistence.read_audit import BufferedReadLog

        log = BufferedReadLog(self.engine, "http" if self.server else "cli")
        if self.server:
            log.start()
        return log

    @cached_property
    def read_audit(self) -> ReadAudit:
        from workflows.readers import ReadAudit

        return ReadAudit(self.read_log, self.service)

    @cached_property
    def webhook_queue(self) -> SqlWebhookRepository:
        from adapters.persistence.webhooks import SqlWebhookRepository

        return SqlWebhookRepository(self.engine, self.cipher)

    @cached_property
    def webhooks(self) -> WebhookService:
        from adapters.integrations.event_schemas import parse_types
        from adapters.integrations.webhooks import new_secret
        from workflows.webhooks import WebhookService

        return WebhookService(self.webhook_queue, self.clock, event_types=parse_types,
                              check_url=self.destinations.check_url, new_secret=new_secret)

    # -- integrations ----------------------------------------------------------------------------

    @cached_property
    def feed(self) -> Feed:
        from adapters.integrations.feed import Feed

        return Feed(self.store, reads=self.read_log, clock=self.clock)

    def webhook_worker(self, policy: DeliveryPolicy | None = None) -> WebhookWorker:
        from adapters.integrations.webhook_worker import WebhookWorker

        return WebhookWorker(self.webhook_queue, self.feed, policy, self.clock, self.destinations)

    @cached_property
    def destinations(self) -> Destinations:
        """Where webhooks may go: https to public addresses, and what the settings allow besides."""
        from adapters.integrations.destinations import Destinations

        return Destinations(self.settings.webhooks_allow_http_loopback, self.settings.webhook_networks)

    # -- alerts by email -------------------------------------------------------------------------

    @cached_property
    def mail_outbox(self) -> SqlMailOutbox:
        from adapters.persistence.mail_outbox import SqlMailOutbox

        return SqlMailOutbox(self.engine, self.cipher)

    def mail_worker(self, policy: MailPolicy | None = None, *,
                    rules_for: Callable[[str], Sequence[AlertRule]] | None = None,
                    facts_for: Callable[[str], AlertFacts] | None = None,
                    receipt_to: Callable[[str], str | None] | None = None) -> MailWorker:
        """The alert router and mail worker on this runtime's store and outbox, sending to ``NIMRS_SMTP_URL``.

        By default the rules are each facility's own (``nimrs facility alerts``), the facts from the incident as it stands,
        and a receipt goes to the acting user's address where the account has one.
        """
        from adapters.mail.router import AlertRouter
        from adapters.mail.smtp import SmtpSender, parse_smtp_url
        from adapters.mail.worker import DeliveryPolicy as MailPolicy
        from adapters.mail.worker import MailWorker

        if self.settings.smtp_url is None:
            raise ValidationFailed("NIMRS_SMTP_URL is not set: alert mail needs an SMTP server (smtp://host:25)")
        try:
            server = parse_smtp_url(self.settings.smtp_url.get_secret_value())
        except ValueError as error:
            raise ValidationFailed(f"NIMRS_SMTP_URL {error}") from None
        chosen = policy or MailPolicy()
        if rules_for is None:
            rules_for = self.facilities.alert_rules
        router = AlertRouter(self.store, self.mail_outbox, rules_for=rules_for, facts_for=facts_for or self._alert_facts,
                             receipt_to=receipt_to or self._receipt_address, link_base=self.settings.base_url,
                             clock=self.clock)
        sender = SmtpSender(server, self.settings.mail_from, chosen.timeout, self.clock)
        return MailWorker(self.mail_outbox, router, sender, chosen, self.clock)

    def _alert_facts(self, incident_id: str) -> AlertFacts:
        from workflows.alerts import facts_of

        return facts_of(self.store.repository.get(UUID(incident_id)))

    def _receipt_address(self, user_id: str) -> str | None:
        """The user's email address, if its account has one (docs/adr/0014, section 8)."""
        try:
            return self.accounts.account(user_id).email
        except NotFound:
            return None

    def clock_process(self, *, batch: int = 500) -> ClockProcess:
        """Records ClockDueSoon and ClockMissed (``workflows.clocks``), reading its work from the overdue view."""
        from workflows.clocks import ClockProcess

        return ClockProcess(self.service, self.reads, self.clock, batch=batch)

    # -- the read models -------------------------------------------------------------------------

    @cached_property
    def views_engine(self) -> Engine:
        return views_engine(self.settings)

    @cached_property
    def projector(self) -> Projector:
        return self.projector_for()

    def projector_for(self, views: Sequence[View] | None = None, *, batch_size: int = 1000,
                      create_indexes: bool = True) -> Projector:
        """A projector of some views (default all) on this runtime's store and views' engine."""
        from projections.projector import Projector

        projector = Projector(self.store, self.views_engine, views, batch_size=batch_size, clock=self.clock,
                              cipher=self.cipher)
        if create_indexes:  # not in a rebuild's workers: the rebuild indexes once it has loaded
            projector.ensure_indexes()  # a rebuild that was killed may have left some out
        return projector

    @cached_property
    def reads(self) -> ReadModels:
        from projections.reads import ReadModels

        return ReadModels(self.projector, self.clock, reads=self.read_log)

    # -- schema ------------------------------------------------------------------------------------

    def migrate(self) -> dict[str, dict[str, str | None]]:
        """Bring both databases' tables to the newest schema (building an engine does it); their revisions."""
        from adapters.persistence.migrate import status

        return {**status(self.engine), **{"views": status(self.views_engine)["views"]}}

    # -- the end -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release what was built: engines' connections and the event store's (the read audit written first)."""
        built = vars(self)
        try:
            if "read_log" in built:
                built.pop("read_log").close()
        finally:  # a read audit that cannot be written (store down) still releases the rest
            self._release(built)

    @staticmethod
    def _release(built: dict[str, Any]) -> None:
        for name in ("engine", "views_engine"):
            if name in built:
                built.pop(name).dispose()
        if "store" in built:
            built.pop("store").close()
        for name in ("service", "accounts", "anonymous_refusals", "security_log", "webhook_queue", "webhooks", "feed",
                     "mail_outbox", "projector", "reads",
                     "read_audit", "event_chain"):
            built.pop(name, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
