"""Helpers for the projection tests: open a projector on a store, dump every view to compare."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.bootstrap import views_engine
from adapters.settings import load_settings
from projections.projector import Projector, all_views
from workflows.service import IncidentService


def projector_for(service: IncidentService, views_url: str, batch_size: int = 1000) -> Projector:
    settings = load_settings({"NIMRS_DATABASE_URL": views_url, "NIMRS_VIEWS_URL": views_url})
    return Projector(service.store, views_engine(settings), batch_size=batch_size, clock=service.clock)


def dump(projector: Projector) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, in key order (positions excluded: they are not content)."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with projector.engine.connect() as connection:
        for view in all_views():
            for table in view.tables:
                ordered = select(table).order_by(*table.primary_key.columns)
                tables[table.name] = [tuple(row) for row in connection.execute(ordered)]
    return tables


def fresh_rebuild(service: IncidentService, views_url: str) -> dict[str, list[tuple[Any, ...]]]:
    projector = projector_for(service, views_url)
    try:
        projector.rebuild([view.name for view in projector.views])
        return dump(projector)
    finally:
        projector.engine.dispose()
