"""A simple local user registry for the CLI: name, facility, security level.

Kept in the same database as the events (table ``nimrs_users``), so it works the same on
SQLite and PostgreSQL. Sign-in, passwords and roles come with the HTTP issue.
"""

from __future__ import annotations

import contextlib
import re

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from adapters.storage import StoreConfig
from domain.actor import Actor
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.vocabulary import Level

metadata = MetaData()
users = Table(
    "nimrs_users", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("level", Integer, nullable=False),
)
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


class UserRegistry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    @classmethod
    def open(cls, config: StoreConfig) -> UserRegistry:
        return cls(create_engine(config.sqlalchemy_url))

    def add(self, user_id: str, facility: str, level: int) -> Actor:
        if not NAME.match(user_id or ""):
            raise ValidationFailed(f"user name {user_id!r} must be 1-64 letters, digits or . _ @ -")
        if not NAME.match(facility or ""):
            raise ValidationFailed(f"facility {facility!r} must be 1-64 letters, digits or . _ @ -")
        if level not in (1, 2, 3):
            raise ValidationFailed(f"level must be 1, 2 or 3, got {level!r}")
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(users).values(user_id=user_id, facility=facility, level=level))
        except IntegrityError:
            raise Conflict(f"user {user_id!r} already exists") from None
        return Actor(user_id, facility, Level(level))

    def ensure(self, actor: Actor) -> None:
        """Add the user unless one of that name exists."""
        with contextlib.suppress(Conflict):
            self.add(actor.user_id, actor.facility, int(actor.level))

    def get(self, user_id: str) -> Actor:
        with self.engine.connect() as connection:
            row = connection.execute(select(users).where(users.c.user_id == user_id)).first()
        if row is None:
            raise NotFound(f"unknown user {user_id!r}; add one with: nimrs users add NAME --facility F --level 1|2|3")
        return Actor(row.user_id, row.facility, Level(row.level))

    def all(self) -> list[Actor]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(users).order_by(users.c.user_id)).all()
        return [Actor(r.user_id, r.facility, Level(r.level)) for r in rows]

    def dispose(self) -> None:
        self.engine.dispose()
