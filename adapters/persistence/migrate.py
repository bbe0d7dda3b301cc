"""Schema migrations (Alembic) for every table that is not the event store.

Two databases, each with its own history of revisions and its own version table (on PostgreSQL
both live in one database):
- ``events``: users, tokens, the security log, webhook subscriptions and deliveries
  (``adapters.persistence.schema.metadata``), beside the event store;
- ``views``: the read models and their positions (``projections.schema.metadata``).

``upgrade`` brings a database to head. A database made by release 0.1.0, which created its tables
without Alembic, is recognised by its tables and adopted at the first revision (which is that
release's schema) before upgrading. The event store's own tables belong to the eventsourcing
library and are not migrated here. Upgrades run in one transaction; on PostgreSQL an advisory lock
keeps two processes starting at once from migrating together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from adapters.persistence.schema import metadata as events_metadata
from projections.schema import metadata as views_metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema of release 0.1.0
ADVISORY_LOCK = 0x6E696D7273  # "nimrs": one migration at a time per PostgreSQL database


@dataclass(frozen=True)
class Database:
    name: str
    metadata: MetaData
    version_table: str
    release_0_1_0_table: str  # present in a database 0.1.0 made: adopt it at the baseline
    head: str  # the newest revision: a database already there needs no Alembic at all (a test checks it)

    @property
    def versions(self) -> Path:
        return MIGRATIONS / self.name

    def owns(self, name: str | None, type_: str, _parents: object = None) -> bool:
        """Alembic's ``include_name``: only this database's tables (others may share a PostgreSQL database)."""
        return type_ != "table" or name in self.metadata.tables


DATABASES = {
    "events": Database("events", events_metadata, "nimrs_schema_version", "nimrs_users", head="0007"),
    "views": Database("views", views_metadata, "view_schema_version", "projection_positions", head="0005"),
}


def _config(database: Database, connection: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config  # imported here: only a migration pays for importing Alembic

    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", str(database.versions))
    config.attributes.update(connection=connection, database=database)
    return config


def alembic_head(database: Database) -> str:
    """The newest revision as Alembic reads it from the revision files."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS), version_locations=[str(database.versions)])
    return str(script.get_current_head())


def current(connection: Connection, database: Database) -> str | None:
    if not inspect(connection).has_table(database.version_table):
        return None
    return connection.execute(text(f"SELECT version_num FROM {database.version_table}")).scalar()


def upgrade(engine: Engine, name: str) -> str:
    """Bring the ``name`` database (``events`` or ``views``) to head; returns the revision it is at."""
    database = DATABASES[name]
    with engine.connect() as connection:
        if current(connection, database) == database.head:  # the usual case on start: one query, no Alembic
            return database.head
    from alembic import command  # imported here: starting a process should not pay for it

    import projections.projector  # noqa: F401 - importing the projector puts every view's tables on its metadata

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        config = _config(database, connection)
        if current(connection, database) is None and inspect(connection).has_table(database.release_0_1_0_table):
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
        return str(current(connection, database))


def status(engine: Engine) -> dict[str, dict[str, str | None]]:
    """Each database's revision and the newest one."""
    with engine.connect() as connection:
        return {name: {"current": current(connection, database), "head": database.head}
                for name, database in DATABASES.items()}
