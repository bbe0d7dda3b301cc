"""Rebuilds into staging tables, swapped in only once they have caught up.

While a rebuild runs, the live views keep serving (and a live projector keeps them current); if the
rebuild fails or is killed, nothing live has changed. The staging tables are built by the same
migrations, in a place of their own:
- SQLite: a file beside the views' file (``nimrs-views.db`` -> ``nimrs-views-rebuild.db``), written
  without syncing (``tune_for_load``: it is thrown away unless the rebuild completes); the swap
  replaces the live tables with copies of the staged ones, indexes included, in one transaction
  (readers see the old rows until it commits);
- PostgreSQL: a schema of its own (``nimrs_rebuild``) in the views' database; the swap moves the
  rebuilt tables into place (``ALTER TABLE ... SET SCHEMA``) in one transaction.
Either way the rebuilt views' positions and recorded failures travel in the same transaction, so a
live projector's next compare-and-set sees the new position and reads on from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.engine import Connection, Engine

from adapters.persistence.engines import build_engine
from adapters.settings import Settings, is_sqlite
from projections.projector import all_views
from projections.schema import failures, positions

STAGING = "nimrs_rebuild"
LOAD_CACHE_KIB = 131072  # the staging file's page cache while a rebuild loads it


def _staging_file(settings: Settings) -> Path:
    live = Path(str(settings.views.database))
    return live.with_name(live.stem + "-rebuild" + (live.suffix or ".db"))


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def prepare(settings: Settings) -> Settings:
    """An empty staging place for the views; the settings that point the views there."""
    if is_sqlite(settings.views):
        staged = _staging_file(settings)
        _remove_sqlite(staged)
        url = settings.views.set(database=str(staged))
    else:
        engine = build_engine(settings.views)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
                connection.exec_driver_sql(f"CREATE SCHEMA {STAGING}")
        finally:
            engine.dispose()
        url = settings.views.update_query_dict({"options": f"-csearch_path={STAGING}"})
    return settings.model_copy(update={"views_url": url.render_as_string(hide_password=False)})


def tune_for_load(engine: Engine) -> None:
    """A staging SQLite file is loaded without syncing, with a big cache and sorts in memory: until the swap it
    is nothing anyone reads, and a crash only throws it away. PostgreSQL: nothing (the staging schema's writes
    already skip syncing: ``Projector._relax_durability``)."""
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _load_pragmas)
    engine.dispose()  # the connections the migrations left in the pool come back with the pragmas


def _load_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def discard(settings: Settings) -> None:
    """Remove the staging place (after a swap, or after a rebuild that failed)."""
    if is_sqlite(settings.views):
        _remove_sqlite(_staging_file(settings))
        return
    engine = build_engine(settings.views)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
    finally:
        engine.dispose()


def swap_in(settings: Settings, names: Sequence[str]) -> None:
    """Put the rebuilt views in place of the live ones, with their positions and failures, in one transaction."""
    tables = [table for view in all_views() if view.name in names for table in view.tables]
    engine = build_engine(settings.views, views=True)
    try:
        with engine.connect() as connection:
            sqlite = is_sqlite(settings.views)
            if sqlite:
                connection.exec_driver_sql(f"ATTACH DATABASE ? AS {STAGING}", (str(_staging_file(settings)),))
                connection.commit()
            with connection.begin():
                # The bookkeeping first: on SQLite its DML opens the transaction the tables' DDL then joins
                # (the driver begins one before DML only).
                _copy_bookkeeping(connection, list(names))
                for table in tables:
                    if sqlite:
                        _copy_sqlite(connection, table)
                    else:
                        connection.exec_driver_sql(f"DROP TABLE {table.name}")
                        connection.exec_driver_sql(f"ALTER TABLE {STAGING}.{table.name} SET SCHEMA public")
            if sqlite:
                connection.exec_driver_sql(f"DETACH DATABASE {STAGING}")
                connection.commit()
    finally:
        engine.dispose()


def _copy_sqlite(connection: Connection, table: Table) -> None:
    """The live table made again as the staged one is (its definition and indexes), then filled with ``INSERT ...
    SELECT *`` from it: between two tables of one definition SQLite copies the stored rows and index entries as
    they are, without working them out again (its "transfer optimization")."""
    made = connection.exec_driver_sql(
        f"SELECT sql FROM {STAGING}.sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index', name",
        (table.name,)).scalars().all()
    connection.exec_driver_sql(f"DROP TABLE {table.name}")  # and its indexes
    for statement in made:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(f"INSERT INTO {table.name} SELECT * FROM {STAGING}.{table.name}")


def _copy_bookkeeping(connection: Connection, names: list[str]) -> None:
    marks = ", ".join("?" if connection.dialect.name == "sqlite" else "%s" for _ in names)
    connection.exec_driver_sql(f"DELETE FROM {positions.name} WHERE view IN ({marks})", tuple(names))
    connection.exec_driver_sql(
        f"INSERT INTO {positions.name} (view, position, last_event_at) "
        f"SELECT view, position, last_event_at FROM {STAGING}.{positions.name} WHERE view IN ({marks})", tuple(names))
    columns = ", ".join(f'"{column.name}"' for column in failures.columns)
    connection.exec_driver_sql(f"DELETE FROM {failures.name} WHERE view IN ({marks})", tuple(names))
    connection.exec_driver_sql(
        f"INSERT INTO {failures.name} ({columns}) SELECT {columns} FROM {STAGING}.{failures.name} "
        f"WHERE view IN ({marks})", tuple(names))
