"""Persistence wiring: one variable, ``NIMRS_DATABASE_URL``, picks the event store.

- unset, or ``sqlite:///path/to/file.db``: an embedded SQLite file (default ``./nimrs.db``);
- ``postgresql://user[:password]@host[:port]/dbname``: PostgreSQL, for production and scale.

The read models (``projections``) live next to the events: in a second SQLite file beside the
first (``nimrs.db`` -> ``nimrs-views.db``: rebuilding them never holds the event store's write
lock), or in the same PostgreSQL database. ``NIMRS_VIEWS_URL`` may put them elsewhere.

``NIMRS_CIPHER_KEY`` (base64 of 16, 24 or 32 random bytes; ``nimrs keygen`` makes one)
turns on AES-GCM encryption at rest of every event payload, compressed first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.event import listens_for

from domain.clock import Clock, utc_now
from domain.errors import ValidationFailed
from workflows.service import IncidentService
from workflows.store import IncidentStore

DEFAULT_URL = "sqlite:///nimrs.db"


@dataclass(frozen=True)
class StoreConfig:
    url: str
    kind: str  # "sqlite" or "postgres"
    env: dict[str, str]
    views_url: str = ""

    @property
    def sqlalchemy_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.env['SQLITE_DBNAME']}"
        return "postgresql+psycopg://" + self.url.split("://", 1)[1]

    def describe(self) -> str:
        """The URL without any password, for messages and logs."""
        parts = urlsplit(self.url)
        if parts.password:
            return self.url.replace(f":{parts.password}@", ":***@")
        return self.url


def store_config(environ: Mapping[str, str] | None = None) -> StoreConfig:
    environ = os.environ if environ is None else environ
    url = environ.get("NIMRS_DATABASE_URL") or DEFAULT_URL
    env = _store_env(url)
    key = environ.get("NIMRS_CIPHER_KEY")
    if key:
        env.update(CIPHER_TOPIC="eventsourcing.cipher:AESCipher", CIPHER_KEY=key,
                   COMPRESSOR_TOPIC="eventsourcing.compressor:ZlibCompressor")
    kind = "sqlite" if url.startswith("sqlite") else "postgres"
    views_url = environ.get("NIMRS_VIEWS_URL") or _views_url(url, kind, env)
    return StoreConfig(url=url, kind=kind, env=env, views_url=views_url)


def _views_url(url: str, kind: str, env: dict[str, str]) -> str:
    if kind == "postgres":
        return url
    path = Path(env["SQLITE_DBNAME"])
    suffix = path.suffix or ".db"
    return f"sqlite:///{path.with_name(path.stem + '-views' + suffix)}"


def sqlalchemy_url(url: str) -> str:
    if url.startswith("sqlite"):
        return url
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def views_engine(config: StoreConfig) -> Engine:
    """The read models' engine. SQLite: WAL and synchronous=NORMAL (the views are rebuildable)."""
    url = sqlalchemy_url(config.views_url)
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url, connect_args={"timeout": 10})

    @listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: upserts by incident id touch pages at random
        cursor.execute("PRAGMA wal_autocheckpoint=16384")  # checkpoint (and sync) every 64 MiB of changes, not 4
        cursor.close()

    return engine


def _store_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(url.split(":///", 1)[1]) if ":///" in url else ""
        if not path:
            raise ValidationFailed(f"NIMRS_DATABASE_URL {url!r} names no file; use sqlite:///path/to/nimrs.db")
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "10"}
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        dbname = parts.path.lstrip("/")
        if not dbname or not parts.hostname:
            raise ValidationFailed(f"NIMRS_DATABASE_URL {url!r} needs a host and a database name")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            # Not "y": eventsourcing 9.5.6 names its insert function per schema, not per table, so
            # the last application to start would route every other's inserts into its own table
            # (docs/adr/0004-postgres-db-functions-off.md).
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
    raise ValidationFailed(f"NIMRS_DATABASE_URL {url!r}: the scheme must be sqlite or postgresql")


def open_service(config: StoreConfig | None = None, clock: Clock = utc_now) -> IncidentService:
    config = config or store_config()
    return IncidentService(IncidentStore(env=config.env), clock)
