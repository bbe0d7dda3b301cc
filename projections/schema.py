"""What every read model shares: one SQLAlchemy metadata, a UTC timestamp type, the positions table.

Each view records in ``projection_positions`` the last notification id of the event log it
has applied, in the same transaction as its rows: that is what makes it exactly-once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite keeps it as sortable text without an offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = value.astimezone(timezone.utc)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def literal_processor(self, dialect: Dialect) -> Any:
        """Inline SQL (for EXPLAIN in tests, or to read a query): the form the column stores."""

        def render(value: datetime | None) -> str:
            bound = self.process_bind_param(value, dialect)
            return "NULL" if bound is None else f"'{bound.isoformat(' ', 'microseconds')}'"

        return render

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


positions = Table(
    "projection_positions", metadata,
    Column("view", String(32), primary_key=True),
    Column("position", BigInteger, nullable=False),
    # The recorded time of the last applied event: the views' "as of", and the base of lag in seconds.
    Column("last_event_at", UtcDateTime, nullable=True),
)
# Events a view could not apply: recorded (in the transaction that moves its position past them) and
# skipped by that view only, so one bad event never stops a projector (``projections.projector``).
failures = Table(
    "projection_failures", metadata,
    Column("view", String(32), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("incident_id", String(36), nullable=False),
    Column("event_type", String(48), nullable=False),
    Column("error", Text, nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
)
