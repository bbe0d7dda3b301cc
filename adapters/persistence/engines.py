"""Every SQLAlchemy engine nimrs uses is built here, with the options its database and its use need.

- the events' database (accounts, tokens, security log, webhooks): SQLite waits up to 10 s for the
  write lock; on PostgreSQL a server (``pooled``) keeps up to 16 connections.
- the views' database (``views``): on SQLite, WAL and ``synchronous=NORMAL`` (the views are
  rebuildable), a 64 MiB cache and a checkpoint every 64 MiB.

URLs come parsed from ``adapters.settings`` (driver ``sqlite`` or ``postgresql+psycopg``), query options
kept: SQLAlchemy hands them to the driver (``sslmode``, ``application_name``...).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.event import listens_for

from adapters.settings import is_sqlite

SQLITE_BUSY_SECONDS = 10
SERVER_POOL = {"pool_size": 8, "max_overflow": 8}


def build_engine(url: URL, *, views: bool = False, pooled: bool = False) -> Engine:
    """The one place engines are made: ``views`` for the read models, ``pooled`` for a server's many threads."""
    if not is_sqlite(url):
        return create_engine(url, **(SERVER_POOL if pooled else {}))
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
    if views:
        listens_for(engine, "connect")(_views_pragmas)
    return engine


def _views_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: upserts by incident id touch pages at random
    cursor.execute("PRAGMA wal_autocheckpoint=16384")  # checkpoint (and sync) every 64 MiB of changes, not 4
    cursor.close()
