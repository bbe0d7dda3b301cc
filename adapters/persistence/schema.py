"""Every table outside the event store, by the database it lives in, and the one function that creates them.

- ``metadata`` (the events' database, ``NIMRS_DATABASE_URL``): users and their tokens, the security
  log, webhook subscriptions and their delivery queue, the alert mail outbox and its router's position, the
  event log's hash chain, the read audit.
- ``projections.schema.metadata`` (the views' database, ``NIMRS_VIEWS_URL``): the read models and
  their positions, defined with the projections.

The event store's own tables belong to the eventsourcing library, which creates them. Schema
migrations (``adapters.persistence.migrate``, Alembic) create and change every table here.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text, text

from projections.schema import UtcDateTime

metadata = MetaData()

users = Table(
    "nimrs_users", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("security_admin", Boolean, nullable=False, server_default=text("false")),
    Column("state_reviewer", Boolean, nullable=False, server_default=text("false")),
    Column("password_hash", String(200)),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_out", Boolean, nullable=False, server_default=text("false")),
    Column("last_active_at", UtcDateTime),  # last sign-in, creation, unlock or re-establishment
    Column("last_sign_in_at", UtcDateTime),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("must_change_password", Boolean, nullable=False, server_default=text("false")),  # a one-time password
    Column("password_reset_by", String(64)),  # who reset the password (told to the user at the next sign-in)
    Column("password_reset_at", UtcDateTime),
    Column("email", Text),  # where the user's receipts go (Email OMH, Email JC); encrypted when a key is set
)
tokens = Table(
    "nimrs_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the token: the token itself is never stored
    Column("user_id", String(64), nullable=False, index=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
security_log = Table(
    "nimrs_security_log", metadata,
    Column("entry", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("user_id", String(64), nullable=False),
    Column("facility", String(64), index=True),
    Column("level", Integer),
    Column("action", String(64), nullable=False),
    Column("target", String(200)),
    Column("outcome", String(16), nullable=False),  # done | refused
    Column("status", Integer),  # the HTTP status of a refusal
    Column("detail", Text),  # encrypted when a key is set (adapters.persistence.cipher)
)
subscriptions = Table(
    "nimrs_webhook_subscriptions", metadata,
    Column("subscription_id", String(40), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("owner_facility", String(64), nullable=False, index=True),
    Column("facility", String(64)),  # whose events: NULL = every facility (a state reviewer's subscription)
    Column("url", String(2000), nullable=False),
    Column("types", Text, nullable=False),  # comma-separated CloudEvents types; empty = all
    Column("secret", Text, nullable=False),  # encrypted when a key is set
    Column("cursor", Integer, nullable=False),  # log position copied into the queue so far
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
deliveries = Table(
    "nimrs_webhook_deliveries", metadata,
    Column("subscription_id", String(40), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("message_id", String(100), nullable=False),  # the CloudEvent id: the same on every attempt
    Column("type", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", String(500)),
    Column("delivered_at", UtcDateTime),
)
mail_outbox = Table(  # alert mail to send (adapters.persistence.mail_outbox): beside the events, never in a view
    "nimrs_mail_outbox", metadata,
    Column("message_id", String(36), primary_key=True),  # uuid5(event, address): a second routing inserts nothing
    Column("facility", String(64), nullable=False, index=True),
    Column("to_address", String(254), nullable=False),
    Column("subject", String(300), nullable=False),  # no patient details
    Column("body", Text, nullable=False),  # encrypted when a key is set (a rule may ask for details)
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", String(500)),  # the SMTP reply or the failure's kind: no patient details
    Column("sent_at", UtcDateTime),  # the receipt: when the server accepted it...
    Column("smtp_reply", String(500)),  # ...and what it said
    Index("ix_nimrs_mail_outbox_status_next", "status", "next_attempt_at"),
)
mail_router = Table(  # how far each router has read the event log (compare-and-set with the outbox rows it adds)
    "nimrs_mail_router", metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)
facility_settings = Table(  # each facility's settings, append-only: the latest row of a kind counts (workflows.facilities)
    "nimrs_facility_settings", metadata,
    Column("entry", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("facility", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # obligations | alert_rules
    Column("value", Text, nullable=False),  # JSON; alert rules hold addresses: encrypted when a key is set
    Column("set_by", String(64), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_nimrs_facility_settings_latest", "facility", "kind", "entry"),
)
event_chain = Table(  # tamper evidence: one link per stored event, in log order (adapters.persistence.event_chain)
    "nimrs_event_chain", metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),  # the event's notification id
    Column("hash", String(64), nullable=False),  # hex SHA-256 of the previous link and the event as stored
)
read_audit = Table(
    "nimrs_read_audit", metadata,  # who read which incident (adapters.persistence.read_audit): append-only
    # On SQLite an INTEGER primary key is the rowid itself: no second index to maintain.
    Column("entry", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("facility", String(64), nullable=False),  # the reader's
    Column("incident_id", String(36), nullable=False),
    Column("incident_facility", String(64), nullable=False),
    Column("view", String(32), nullable=False),  # show, history, as_of, changes, audit_trail, feed
    Column("channel", String(8), nullable=False),  # http or cli
    Index("ix_nimrs_read_audit_incident_at", "incident_id", "at"),
    Index("ix_nimrs_read_audit_user_at", "user_id", "at"),
    Index("ix_nimrs_read_audit_facility_at", "incident_facility", "at"),
)
rate_limits = Table(  # fixed windows shared by every server process (adapters.persistence.rate_limits)
    "nimrs_rate_limits", metadata,
    Column("bucket", String(64), primary_key=True),  # SHA-256 of what is limited: no user name or address in clear
    Column("window_start", UtcDateTime, nullable=False, index=True),
    Column("hits", Integer, nullable=False),
)
anonymous_refusals = Table(  # the security log's refusals of unidentified callers: one row per address and minute
    "nimrs_anonymous_refusals", metadata,
    Column("address", String(64), primary_key=True),
    Column("minute", UtcDateTime, primary_key=True, index=True),
    Column("refusals", Integer, nullable=False),  # 401s and other refusals
    Column("rate_limited", Integer, nullable=False),  # 429s
)
