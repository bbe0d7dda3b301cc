"""The incidents' event store: the eventsourcing library's application, with nimrs's aggregate.

Kept apart from the use cases (``workflows.service``) so that a step may have the name it has
everywhere: the library's ``Application.close`` closes the store, ``IncidentService.close``
closes an incident.
"""

from uuid import UUID

from eventsourcing.application import Application


class IncidentStore(Application[UUID]):
    # The name prefixes the application's settings and its PostgreSQL tables (``nimrs_events``):
    # stored data depends on it, so it never changes.
    name = "nimrs"
