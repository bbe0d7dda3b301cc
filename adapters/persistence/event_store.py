"""The event store's configuration: the eventsourcing library's settings from nimrs's (``NIMRS_DATABASE_URL``).

- ``sqlite:///path/to/file.db``: an embedded SQLite file (default ``./nimrs.db``);
- ``postgresql://user[:password]@host[:port]/dbname[?options]``: PostgreSQL, for production and scale.
  The URL's query options (``sslmode``, ``sslrootcert``, ``application_name``...) reach every
  connection of the library's pool too (``adapters.persistence.postgres_store``): the library itself has no
  setting for them.

``NIMRS_CIPHER_KEY`` turns on AES-GCM encryption at rest of every event payload, compressed first; events
written with one of ``NIMRS_CIPHER_OLD_KEYS`` stay readable (``adapters.persistence.cipher``).

Both stores group the saves of concurrent commands into one transaction per round (``adapters.persistence.group_commit``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from eventsourcing import sqlite

from adapters.persistence.cipher import KeyRingCipher, cipher_keys
from adapters.persistence.group_commit import GroupCommitSQLiteRecorder
from adapters.settings import Settings, is_sqlite

# The library imports the PostgreSQL module by name when a PostgreSQL store is opened: a SQLite process never
# loads psycopg.
POSTGRES_FACTORY = "adapters.persistence.postgres_store:PostgresFactory"
CONNECT_OPTIONS = "POSTGRES_CONNECT_OPTIONS"  # the URL's query, passed to psycopg as connection parameters


class SQLiteFactory(sqlite.SQLiteFactory):
    """The library's SQLite persistence, its saves grouped."""

    application_recorder_class = GroupCommitSQLiteRecorder


def event_store_env(settings: Settings, *, cache: int = 0, create_tables: bool = True) -> dict[str, str]:
    """The library's settings: persistence module, database, encryption; ``cache`` incidents kept in memory."""
    url = settings.database
    env: dict[str, str]
    if is_sqlite(url):
        env = {"PERSISTENCE_MODULE": f"{__name__}:{SQLiteFactory.__name__}", "SQLITE_DBNAME": str(url.database),
               "SQLITE_LOCK_TIMEOUT": "10"}
    else:
        env = {
            "PERSISTENCE_MODULE": POSTGRES_FACTORY,
            "POSTGRES_DBNAME": str(url.database),
            "POSTGRES_HOST": str(url.host),
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
            # Not "y": eventsourcing 9.5.6 names its insert function per schema, not per table, so
            # the last application to start would route every other's inserts into its own table
            # (docs/adr/0004-postgres-db-functions-off.md).
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
        if url.query:
            env[CONNECT_OPTIONS] = urlencode(url.query, doseq=True)
    keys = cipher_keys(settings)
    if keys:
        # AES-GCM as the library's AESCipher, and every older key kept readable after a rotation.
        env.update(CIPHER_TOPIC=f"{KeyRingCipher.__module__}:{KeyRingCipher.__name__}", CIPHER_KEY=keys[0],
                   CIPHER_OLD_KEYS=",".join(keys[1:]), COMPRESSOR_TOPIC="eventsourcing.compressor:ZlibCompressor")
    if cache:
        # A long-lived server keeps recently used incidents in memory; each load still reads any newer
        # events first (fast-forward), so other processes' writes are never missed.
        env["AGGREGATE_CACHE_MAXSIZE"] = str(cache)
    if not create_tables:
        env["CREATE_TABLE"] = "n"
    return env
